// shop pages (see CONTRIBUTING.md): add records here only; router.ts merges every route file.
// Any signed-in user may shop. /shop/paid is where Alipay's page sends the browser back
// (ALIPAY_RETURN_URL; `studyhub serve` points it there unless it is set).
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: '/shop',
    name: 'shop',
    component: () => import('../pages/shop/ShopPage.vue'),
    meta: { title: '商城', menu: '商品', section: '商城', order: 1 },
  },
  {
    path: '/shop/cart',
    name: 'shop-cart',
    component: () => import('../pages/shop/CartPage.vue'),
    meta: { title: '购物车', menu: '购物车', section: '商城', order: 2 },
  },
  {
    path: '/shop/checkout',
    name: 'shop-checkout',
    component: () => import('../pages/shop/CheckoutPage.vue'),
    meta: { title: '确认订单' },
  },
  {
    path: '/shop/orders',
    name: 'shop-orders',
    component: () => import('../pages/shop/OrdersPage.vue'),
    meta: { title: '我的订单', menu: '我的订单', section: '商城', order: 3 },
  },
  {
    path: '/shop/paid',
    name: 'shop-paid',
    component: () => import('../pages/shop/PaidPage.vue'),
    meta: { title: '支付结果' },
  },
]

export default routes
