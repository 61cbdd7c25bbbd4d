export function loadData(): unknown {
  return { greeting: 'héllo', bytes: [0, 255] };
}
