// Order statuses (API.md §6) and pay methods as operators read them.
export const ORDER_STATUS: Record<number, string> = {
  1: '待支付',
  2: '待发货',
  3: '已发货',
  4: '已收货',
  5: '已完成',
  6: '已取消',
  7: '已退款',
}
export const PAY_METHOD: Record<number, string> = { 1: '支付宝', 2: '货到付款' }
