import { createApp } from 'vue'
import App from './App.vue'
import { setUnauthorizedHandler } from './api/client'
import { router } from './router'
import { auth } from './stores/auth'
import './styles/main.css'

// any 401 on a signed-in request: the token is gone (expired, revoked, password changed)
setUnauthorizedHandler(() => {
  auth.forget()
  const here = router.currentRoute.value
  if (here.name !== 'login') void router.replace({ name: 'login', query: { next: here.fullPath, expired: '1' } })
})

createApp(App).use(router).mount('#app')
