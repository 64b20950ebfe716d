import { useEffect, useState } from 'preact/hooks';

export type SchemeChoice = 'auto' | 'light' | 'dark';
const KEY = 'llm-monitor-analyzer:scheme';
const query = () => window.matchMedia('(prefers-color-scheme: dark)');

function stored(): SchemeChoice {
  try {
    const value = localStorage.getItem(KEY);
    return value === 'light' || value === 'dark' ? value : 'auto';
  } catch {
    return 'auto';
  }
}

/**
 * The colour scheme: the system's (`prefers-color-scheme`, followed live) unless the toggle chose one,
 * which is remembered in this browser. Sets `data-scheme` on <html>, which the stylesheet reads.
 */
export function useScheme(): { choice: SchemeChoice; scheme: 'light' | 'dark'; choose(choice: SchemeChoice): void } {
  const [choice, setChoice] = useState<SchemeChoice>(stored);
  const [system, setSystem] = useState<'light' | 'dark'>(() => (query().matches ? 'dark' : 'light'));
  useEffect(() => {
    const media = query();
    const listener = () => setSystem(media.matches ? 'dark' : 'light');
    media.addEventListener('change', listener);
    return () => media.removeEventListener('change', listener);
  }, []);
  const scheme = choice === 'auto' ? system : choice;
  // set while rendering, not in an effect: the charts read the scheme's colours in their own effects, which run first
  document.documentElement.dataset.scheme = scheme;
  return {
    choice,
    scheme,
    choose(next) {
      setChoice(next);
      try {
        if (next === 'auto') localStorage.removeItem(KEY);
        else localStorage.setItem(KEY, next);
      } catch {
        // storage refused (private mode): the choice lasts for this page
      }
    },
  };
}

/** A colour of the current scheme, from the stylesheet's variables (for canvas drawing). */
export function cssColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
