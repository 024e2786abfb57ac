// The dataset types live beside the contract (src/shared) so the renderer sees them; main code imports them from here.
export type * from '../../shared/datasets/types.ts';
