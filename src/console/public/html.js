// htm bound to preact: JSX-like templates without a build step. Text in ${…} becomes DOM text, never HTML.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
