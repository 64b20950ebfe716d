import type { RefObject } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/**
 * True once the element has come within 200 px of the viewport, and from then on: the views that ask the
 * worker for something (insights, the requests table) do so only when a person can see them, so that
 * the overview above them stays as quick as without them.
 */
export function useNearScreen(ref: RefObject<Element | null>): boolean {
  const [near, setNear] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el || near) return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setNear(true), { rootMargin: '200px' });
    observer.observe(el);
    return () => observer.disconnect();
  }, [near]);
  return near;
}
