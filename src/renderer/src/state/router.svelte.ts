// Which section is showing; kept in the URL hash so that a reload stays on the same page.
import { PAGE_IDS, type PageId } from '../lib/pages.ts';

function pageFromHash(hash: string): PageId | null {
  const id = hash.replace(/^#\/?/, '');
  return (PAGE_IDS as readonly string[]).includes(id) ? (id as PageId) : null;
}

/** The current section, following `#/<page>` in the URL. */
export class Router {
  page = $state<PageId>('teacher');

  constructor() {
    this.page = pageFromHash(window.location.hash) ?? 'teacher';
    window.addEventListener('hashchange', () => {
      this.page = pageFromHash(window.location.hash) ?? this.page;
    });
  }

  /** Shows a section. */
  go(page: PageId): void {
    this.page = page;
    window.location.hash = `#/${page}`;
  }
}
