import { LoadingState } from '@/components/ui/states';

/** Shown while the server gathers the investigation's header (the panels load in the browser). */
export default function Loading() {
  return <LoadingState>Loading investigation…</LoadingState>;
}
