/**
 * Partition of a machine: FNV-1a (32-bit) of its id modulo the partition count. Every instance (and
 * any tool) computes the same partition for the same id and count.
 */
export function partitionOf(machineId: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < machineId.length; i++) {
    h ^= machineId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}
