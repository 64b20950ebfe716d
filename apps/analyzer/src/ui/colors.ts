/** One color per model, by its position in the file (Tableau 10, then repeated darker). */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const DARKER = ['#2f4b6a', '#a85d12', '#9c2f31', '#3f7f7a', '#356b30', '#a88b1c', '#764f6a', '#c0606b', '#65493a', '#7d746f'];

export function modelColor(index: number): string {
  const round = Math.floor(index / PALETTE.length) % 2;
  return (round === 0 ? PALETTE : DARKER)[index % PALETTE.length]!;
}

export const PROGRAM_COLOR = '#6b7280';
