import { USER } from './harness';

/** An order_paid notice whose order number is `A<n>`, for the harness user unless told otherwise. */
export const paid = (n: number, openid = USER) => ({ openid, template: 'order_paid', data: { order_no: `A${n}`, amount: '1.00' } });
