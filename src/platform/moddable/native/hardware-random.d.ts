// Declaration of ./hardware-random.js (native functions; one C file per platform, chosen by the board manifest).
declare const HardwareRandom: {
  fill(buffer: ArrayBuffer): void;
  reseedLibc(): void;
  source(): string;
  strong(): boolean;
};
export default HardwareRandom;
