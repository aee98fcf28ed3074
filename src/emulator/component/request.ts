import { ERRCODE } from '../../wechat/errcodes';
import { jsonObject, type ApiAnswer, type ApiRequest } from '../api/types';
import { wxError } from '../wx-errors';
import type { Component } from './component';
import { COMPONENT_ERRCODE } from './errcodes';

/**
 * The JSON body of a component API call, or the error answer: 47001 when it is not a JSON
 * object, 61011 when `component_appid` is not this component's.
 */
export function componentBody(c: Component, req: ApiRequest): { body: Record<string, unknown> } | { error: ApiAnswer } {
  const b = jsonObject(req.body);
  if (!b) return { error: wxError(ERRCODE.DATA_FORMAT_ERROR, req.rid) };
  if (b.component_appid !== c.appId) return { error: wxError(COMPONENT_ERRCODE.INVALID_COMPONENT, req.rid) };
  return { body: b };
}

/** 41004 / 40125 for a missing or wrong component secret, else 0. */
export function secretError(c: Component, secret: unknown): number {
  if (typeof secret !== 'string' || secret === '') return ERRCODE.APPSECRET_MISSING;
  return secret === c.opts.appSecret ? 0 : ERRCODE.INVALID_APPSECRET;
}
