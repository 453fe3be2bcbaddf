import { LoadingState } from '@/components/ui/states';

/** Shown while the server gathers the process, its ancestry and its children. */
export default function Loading() {
  return <LoadingState>Loading process…</LoadingState>;
}
