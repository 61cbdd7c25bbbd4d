// Declaration of ./sim-clock.js (native, Linux simulator only).
declare const SimulatorClock: {
  set(seconds: number): boolean;
  ticks(): number;
};
export default SimulatorClock;
