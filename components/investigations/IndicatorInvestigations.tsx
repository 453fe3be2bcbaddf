'use client';

import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '@/components/trpc/react';
import { ErrorState, LoadingState } from '@/components/ui/states';
import { InvestigationTable } from './InvestigationList';

/** On an indicator's page: the investigations that group it (where its zoom evidence is). */
export function IndicatorInvestigations({ indicatorId }: { indicatorId: string }) {
  const trpc = useTRPC();
  const list = useQuery(trpc.investigations.list.queryOptions({ indicatorId }));
  return (
    <section aria-labelledby="indicator-investigations-title">
      <h2 id="indicator-investigations-title">Investigations</h2>
      {list.isPending ? (
        <LoadingState>Loading the investigations of this indicator…</LoadingState>
      ) : list.isError ? (
        <ErrorState error={list.error} what="investigations of this indicator" />
      ) : list.data.investigations.length === 0 ? (
        <p className="muted" data-testid="no-investigation">
          No investigation groups this indicator yet: one opens when the zoom policy or a responder zooms in on it.
        </p>
      ) : (
        <InvestigationTable investigations={list.data.investigations} label="Investigations of this indicator" />
      )}
    </section>
  );
}
