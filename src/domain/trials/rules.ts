import { createHmac } from 'node:crypto';
import type { Approach, TrialStratum } from '../vocabulary.js';

/** The case facts a trial may stratify by, as the API names them. */
export interface StratumFacts {
  ideology: string;
  riskLevel: string;
  platform: string;
}

/** Fixed order, whatever order the trial listed them in: one stratum has one name. */
const STRATUM_ORDER: readonly TrialStratum[] = ['ideology', 'riskLevel', 'platform'];

/** The stratum a case falls in: `ideology=far_right;riskLevel=high`, or `all` for an unstratified trial. */
export function stratumKey(stratifyBy: readonly TrialStratum[], c: StratumFacts): string {
  const parts = STRATUM_ORDER.filter((f) => stratifyBy.includes(f)).map((f) => `${f}=${c[f]}`);
  return parts.length === 0 ? 'all' : parts.join(';');
}

/** Blocks hold every arm twice, so a stratum is balanced at every multiple of 2 × arms. */
export const blockSize = (arms: readonly unknown[]) => arms.length * 2;

/**
 * A keyed stream of uniform integers: HMAC-SHA256(secret, label + "/" + counter), 4 bytes at a
 * time. Whoever holds the server secret can re-derive every allocation; nobody can predict the
 * next one without it, so an intervener cannot steer a case into an arm.
 */
function keyedStream(secret: string, label: string) {
  let counter = 0;
  let buf = Buffer.alloc(0);
  let at = 0;
  return (bound: number): number => {
    // Rejection sampling keeps every value equally likely (no modulo bias).
    const limit = Math.floor(2 ** 32 / bound) * bound;
    for (;;) {
      if (at + 4 > buf.length) {
        buf = createHmac('sha256', secret).update(`${label}/${counter++}`).digest();
        at = 0;
      }
      const v = buf.readUInt32BE(at);
      at += 4;
      if (v < limit) return v % bound;
    }
  };
}

/**
 * Block number `block` of a stratum: each arm twice, shuffled (Fisher–Yates) by the keyed stream
 * of the trial, stratum and block. Pure: the same inputs give the same block.
 */
export function permutedBlock<A extends string>(secret: string, trialId: string, stratum: string, block: number, arms: readonly A[]): A[] {
  const items = [...arms, ...arms];
  const next = keyedStream(secret, `trial-block/${trialId.toLowerCase()}/${stratum}/${block}`);
  for (let i = items.length - 1; i > 0; i--) {
    const j = next(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** The arm of the stratum's `seq`-th allocation (0-based): position seq mod block size of block ⌊seq / block size⌋. */
export function armAt<A extends string>(secret: string, trialId: string, stratum: string, seq: number, arms: readonly A[]): A {
  const size = blockSize(arms);
  return permutedBlock(secret, trialId, stratum, Math.floor(seq / size), arms)[seq % size]!;
}

/** A case complies when its first outbound touchpoint used its arm. */
export const complies = (arm: string, firstOutboundApproaches: readonly string[] | null) => firstOutboundApproaches?.includes(arm) ?? false;

export type Arms = readonly Approach[];
