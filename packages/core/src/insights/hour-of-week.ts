import { SLOT_SECONDS, offsetSegments } from '../time/time-zone.js';

/** Cells of the hour-of-week matrix: 7 weekdays (Monday first) × 24 local hours, index `weekday * 24 + hour`. */
export const WEEK_CELLS = 7 * 24;
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

const DAY = 86_400;

/**
 * Which hour-of-week cell each 15-minute slot of [from, to) falls in, in an IANA zone. Every offset in
 * use is a multiple of 15 minutes, so a slot lies in one local hour: its cell follows from the offset in
 * force (looked up once per stretch between the zone's offset changes) by arithmetic. A 23- or 25-hour
 * day, a repeated hour (both go to the same cell) and a +05:45 zone need no special case.
 */
export class WeekHours {
  readonly #starts: number[];
  readonly #offsets: number[];

  /** `from` and `to` on the 15-minute grid. */
  constructor(from: number, to: number, timeZone: string) {
    const segments = offsetSegments(timeZone, from, Math.max(from + SLOT_SECONDS, to));
    this.#starts = segments.map(([start]) => start);
    this.#offsets = segments.map(([, offset]) => offset);
  }

  /** The cell of the slot that starts at `slot * 900` (inside [from, to) of the constructor). */
  cellOfSlot(slot: number): number {
    const t = slot * SLOT_SECONDS;
    const starts = this.#starts;
    let i = 0;
    if (starts.length > 1) {
      let hi = starts.length - 1;
      while (i < hi) {
        const mid = (i + hi + 1) >> 1;
        if (starts[mid]! <= t) i = mid;
        else hi = mid - 1;
      }
    }
    const wall = t + this.#offsets[i]!;
    const day = Math.floor(wall / DAY);
    // 1970-01-01 was a Thursday: day + 3 counts from a Monday
    return (((day + 3) % 7) + 7) % 7 * 24 + Math.floor((wall - day * DAY) / 3600);
  }
}
