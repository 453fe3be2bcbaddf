import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '@/server/trpc/root';

/** The API shapes the investigation page draws, as the router declares them (one procedure per panel). */
type Out = inferRouterOutputs<AppRouter>['investigations'];
type In = inferRouterInputs<AppRouter>['investigations'];

export type InvestigationDetail = Out['get'];
export type InvestigationSummary = Out['list']['investigations'][number];
export type TimelineView = Out['timeline'];
export type TimelineLaneName = keyof TimelineView['lanes'];
export type TimelinePoint = TimelineView['lanes'][TimelineLaneName]['points'][number];
export type AncestryView = Out['ancestry'];
export type ProcessNodeView = AncestryView['chain'][number];
export type NetworkView = Out['network'];
export type Destination = NetworkView['destinations'][number];
export type FilesView = Out['files'];
export type CodeView = Out['code'];
export type EvidenceTreeView = Out['evidenceTree'];
export type EventView = Out['event'];
export type FindingView = InvestigationDetail['findings'][number];
export type VerdictValue = In['setVerdict']['verdict'];
