import type { DataSource } from 'typeorm';

/** A node of PostgreSQL's `EXPLAIN (FORMAT JSON)` plan (the fields the tests read). */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  /** With `analyze`: rows the node returned (per loop). */
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

/**
 * Every node of the plan PostgreSQL (or PGlite) chooses for `text` with `values`, depth first:
 * `EXPLAIN (FORMAT JSON)`, or `EXPLAIN (ANALYZE, FORMAT JSON)` (the query runs) with `analyze`.
 */
export async function queryPlanNodes(
  dataSource: DataSource,
  text: string,
  values: unknown[],
  options: { analyze?: boolean } = {},
): Promise<PlanNode[]> {
  const [row] = await dataSource.query(`EXPLAIN (${options.analyze ? 'ANALYZE, ' : ''}FORMAT JSON) ${text}`, values);
  const raw = row['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw)[0].Plan as PlanNode;
  const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];
  return nodes(plan);
}
