// Native functions of the Pico W raw flash region (pico/modAgentFlash.c).
// Each operation returns a status (pico/agent-flash.h): 0 is success.
export function open(byteLength) @ "xs_agentflash_open";
export function base() @ "xs_agentflash_base";
export function erase(block) @ "xs_agentflash_erase";
export function read(offset, into, start, length) @ "xs_agentflash_read";
export function write(offset, bytes, start, length) @ "xs_agentflash_write";
