// Renderer entry: Pinia, the API client for this page (Electron bridge or serve-mode socket), the app.
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { createDefaultClient } from './api';
import { setApi } from './api/instance';
import './styles/base.css';

setApi(createDefaultClient());
createApp(App).use(createPinia()).mount('#app');
