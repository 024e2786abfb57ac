// Reactive view of the link between the renderer and main, for the connection banner.
import type { ConnectionStatus } from '../lib/ws-client.ts';

/** Where the connection to the studio stands, and why when it is down. */
export class ConnectionState {
  status = $state<ConnectionStatus>('connecting');
  detail = $state<string | null>(null);
  readonly isOpen = $derived(this.status === 'open');

  /** Records a status change reported by the transport. */
  set(status: ConnectionStatus, detail: string | null): void {
    this.status = status;
    this.detail = detail;
  }
}
