// A view shown / hidden, whether or not App.vue keeps it alive: `onShown` runs on mount and on
// every return to a kept-alive view; `onHidden` when it is left or unmounted.
import { onActivated, onBeforeUnmount, onDeactivated, onMounted } from 'vue';

export function onShown(fn: () => void) {
  let justMounted = false;
  onMounted(() => {
    justMounted = true; // inside <KeepAlive> onActivated follows at once: do not run twice
    fn();
  });
  onActivated(() => {
    if (justMounted) justMounted = false;
    else fn();
  });
}

export function onHidden(fn: () => void) {
  onDeactivated(fn);
  onBeforeUnmount(fn);
}
