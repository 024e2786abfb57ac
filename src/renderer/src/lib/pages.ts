// The studio's sections in navigation order, and what each not-yet-built one will hold.

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

/** A section that is not built yet: what it will let the user do, step by step. */
export interface PlannedPage {
  summary: string;
  steps: readonly string[];
}

/** The sections still to come, described from the user's side. */
export const PLANNED_PAGES: Readonly<Partial<Record<PageId, PlannedPage>>> = {
  effects: {
    summary: 'Turn a text prompt into an edit of the generated faces.',
    steps: [
      'Type a target text (“a smiling face”) and a neutral text (“a face”).',
      'StyleCLIP global directions turn them into a direction in the teacher’s style space.',
      'Strength α and disentanglement β sliders show the edit instantly on a grid of samples.',
    ],
  },
  train: {
    summary: 'Distil an effect into a small, fast student network.',
    steps: [
      'Train a mobile UNet (MobileNetV2 encoder) on the accepted pairs.',
      'Watch live loss curves and sample previews; checkpoints are kept.',
      'Pause, resume or cancel at any time.',
    ],
  },
  live: {
    summary: 'Try a student on your webcam in real time.',
    steps: [
      'The face is found and cropped, the student applied and the result pasted back.',
      'Side-by-side view with frames per second and per-frame latency.',
    ],
  },
};
