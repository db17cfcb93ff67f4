// The controller manager: what runs the twin's controllers, and when. Time advances on a fixed grid
// (1 s by default) so results never depend on how often anyone reads. Each grid step integrates the
// pods' heaps, lets the kubelet manage memory and the load wander; the other controllers (kubelet
// readiness, deployment and ReplicaSet, scheduler, status) run only when something is due — a
// mutation, a pod reaching the end of its start-up delay, an unsettled rollout, a pending pod's retry
// — the HPA controller every 15 s and the event collector every minute. That is what lets a simulated
// day run in seconds (bench.ts). It must never read a clock: ClusterTwin says how far to go.
import { HPA_DEFAULTS } from '../hpa-algorithm.ts';
import type { TwinStore } from '../twin-store.ts';
import type { DeploymentState } from '../twin-state.ts';
import { writeDeployment } from '../registry/deployments.ts';
import { rollout, updateDeploymentStatus } from './deployment.ts';
import { EVENT_GC_MS, expireEvents } from './events.ts';
import { syncHpas } from './hpa.ts';
import { accumulateSystemLeaks, manageMemory, markReady } from './kubelet.ts';
import { advanceHeaps, advanceLoadNoise, refreshPerformance } from './performance.ts';
import { UNSCHEDULABLE_RETRY_MS, schedule } from './scheduler.ts';

export class ControllerManager {
  private nextHpaSyncMs: number;
  private nextEventGcMs: number;

  constructor(private readonly store: TwinStore) {
    this.nextHpaSyncMs = store.simMs + HPA_DEFAULTS.syncPeriodMs;
    this.nextEventGcMs = store.simMs + EVENT_GC_MS;
  }

  /** Advances the model to `nowMs` (to the last grid point not after it); changes made from here on happen at `nowMs`. */
  catchUp(nowMs: number): void {
    const s = this.store;
    while (s.simMs + s.gridMs <= nowMs) this.advanceGrid();
    s.eventMs = Math.max(s.simMs, nowMs);
  }

  /** One pass of every controller that reacts to a change, in the order the twin has always run them. */
  reconcile(): void {
    const s = this.store;
    s.dirty = false;
    markReady(s);
    for (const d of s.deployments.values()) {
      // A rollout step can enable the next one (old pods gone → room to surge): settle them now,
      // as the real controller would within milliseconds; what does not settle goes on next step.
      let settled = false;
      for (let i = 0; i < 4; i++) {
        if (!rollout(s, d)) {
          settled = true;
          break;
        }
      }
      if (!settled) s.dirty = true;
    }
    // The scheduler: pods that did not fit may fit now.
    for (const p of [...s.pending]) schedule(s, p);
    for (const d of s.deployments.values()) updateDeploymentStatus(s, d);
    refreshPerformance(s);
  }

  private advanceGrid(): void {
    const s = this.store;
    advanceHeaps(s);
    s.simMs += s.gridMs;
    s.eventMs = s.simMs;
    accumulateSystemLeaks(s);
    manageMemory(s);
    advanceLoadNoise(s);
    if (this.controllersDue()) this.reconcile();
    else refreshPerformance(s);
    if (s.simMs >= this.nextHpaSyncMs) {
      while (this.nextHpaSyncMs <= s.simMs) this.nextHpaSyncMs += HPA_DEFAULTS.syncPeriodMs;
      if (s.hpas.size > 0) syncHpas(s, this.scaleTarget);
    }
    if (s.simMs >= this.nextEventGcMs) {
      while (this.nextEventGcMs <= s.simMs) this.nextEventGcMs += EVENT_GC_MS;
      expireEvents(s);
    }
  }

  private controllersDue(): boolean {
    const s = this.store;
    if (s.dirty) return true;
    for (const p of s.starting) if (p.readyAtMs <= s.eventMs) return true;
    for (const p of s.pending) if (s.eventMs - p.schedulingEventMs >= UNSCHEDULABLE_RETRY_MS) return true;
    return false;
  }

  /** The HPA's rescale, as a write of the scale subresource; the rollout follows at once. */
  private readonly scaleTarget = (d: DeploymentState, replicas: number): void => {
    writeDeployment(this.store, d.namespace, d.name, { replicas });
    this.reconcile();
  };
}
