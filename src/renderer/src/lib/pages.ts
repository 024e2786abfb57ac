// The studio's sections in navigation order, with their sidebar labels.

/** Every section of the studio, in the order the sidebar shows them. */
export const PAGE_IDS = ['teacher', 'effects', 'datasets', 'train', 'live', 'export', 'jobs', 'settings'] as const;

/** One section of the studio. */
export type PageId = (typeof PAGE_IDS)[number];

/** Sidebar labels. */
export const PAGE_LABELS: Readonly<Record<PageId, string>> = {
  teacher: 'Teacher',
  effects: 'Effects',
  datasets: 'Datasets',
  train: 'Train',
  live: 'Live',
  export: 'Export',
  jobs: 'Jobs',
  settings: 'Settings',
};
