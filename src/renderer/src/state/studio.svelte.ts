// The renderer's root state: the transport, the connection, and every section's state, wired together.
import type { AppInfo, StudioError } from '../../../shared/contract.ts';
import type { Transport } from '../lib/transport.ts';
import { ConnectionState } from './connection.svelte.ts';
import { DatasetsState } from './datasets.svelte.ts';
import { DevicesState } from './devices.svelte.ts';
import { EffectsState } from './effects.svelte.ts';
import { ExportState } from './export.svelte.ts';
import { JobsState } from './jobs.svelte.ts';
import { LiveState } from './live.svelte.ts';
import { Router } from './router.svelte.ts';
import { TeachersState } from './teachers.svelte.ts';
import { TrainState } from './train.svelte.ts';

/** Everything the UI shows, built on one transport. */
export class StudioState {
  readonly connection = new ConnectionState();
  readonly router = new Router();
  readonly jobs: JobsState;
  readonly devices: DevicesState;
  readonly datasets: DatasetsState;
  readonly teachers: TeachersState;
  readonly effects: EffectsState;
  readonly exporter: ExportState;
  readonly live: LiveState;
  readonly train: TrainState;
  readonly kind: Transport['kind'];
  info = $state.raw<AppInfo | null>(null);
  infoError = $state.raw<StudioError | null>(null);
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
    this.kind = transport.kind;
    this.jobs = new JobsState(transport.api);
    this.devices = new DevicesState(transport.api, this.jobs);
    this.datasets = new DatasetsState(transport.api, this.jobs);
    this.teachers = new TeachersState(transport.api, this.jobs);
    this.effects = new EffectsState(transport.api, this.jobs, this.teachers);
    this.exporter = new ExportState(transport.api, this.jobs);
    this.live = new LiveState(transport.api);
    this.train = new TrainState(transport.api, this.jobs);
  }

  /** Subscribes to events and loads everything; reloads after each reconnect, since events may have been missed. */
  start(): void {
    this.jobs.subscribe();
    this.datasets.subscribe();
    this.teachers.subscribe();
    this.effects.subscribe();
    this.exporter.subscribe();
    this.live.subscribe();
    this.train.subscribe();
    this.#transport.watch((status, detail) => {
      const wasOpen = this.connection.isOpen;
      this.connection.set(status, detail);
      if (status === 'open' && !wasOpen) void this.#loadAll();
    });
  }

  async #loadAll(): Promise<void> {
    const [info] = await Promise.all([this.#transport.api.invoke('app:info'), this.jobs.load(), this.devices.load(), this.datasets.loadDatasets(), this.teachers.load().then(() => this.effects.load()), this.exporter.load(), this.train.load()]);
    if (info.ok) {
      this.info = info.value;
      this.infoError = null;
    } else {
      this.infoError = info.error;
    }
  }
}
