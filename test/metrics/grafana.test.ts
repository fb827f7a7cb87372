/**
 * The Grafana dashboard in docs/grafana uses exactly the exported metric names, and only
 * labels those metrics have (plus Prometheus's own `instance` and `job`). The Prometheus
 * integration test runs its queries against real data.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { METRIC_SPECS, metricNames } from '../../lib/metrics/index.js';
import { DASHBOARD_PATH, dashboardExpressions, type DashboardPanel as Panel } from './helpers.js';

const SPEC_BY_NAME = new Map(Object.values(METRIC_SPECS).map((spec) => [`let_${spec.name}`, spec]));
const TARGET_LABELS = ['instance', 'job'];

describe('metrics: the Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as { title: string; uid: string; schemaVersion: number; panels: Panel[] };
  const expressions = dashboardExpressions();

  it('is a dashboard with unique panel ids, every non-row panel querying Prometheus', () => {
    expect(dashboard.title).to.equal('lamarr-energy-tracker');
    expect(dashboard.uid).to.be.a('string').and.not.equal('');
    expect(dashboard.schemaVersion).to.be.a('number');
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.targets, panel.title).to.be.an('array').that.is.not.empty;
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).to.be.at.most(24);
    }
  });

  it('uses exactly the exported metric names: each of them, and no other', () => {
    const used = new Set(expressions.flatMap((expression) => [...expression.matchAll(/\blet_[a-z0-9_]+/g)].map((m) => m[0])));
    expect([...used].sort()).to.deep.equal(metricNames().sort());
  });

  it('selects and groups only by labels the metrics have', () => {
    for (const expression of expressions) {
      // Selectors: let_name{label="…", label=~"…"}
      for (const [, name, body] of expression.matchAll(/\b(let_[a-z0-9_]+)\{([^}]*)\}/g)) {
        const spec = SPEC_BY_NAME.get(name!);
        expect(spec, name).to.not.equal(undefined);
        for (const [, label] of body!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
          expect([...spec!.labels, ...TARGET_LABELS], `${label} in ${expression}`).to.include(label);
        }
      }
      // Grouping: by (a, b) must be labels of every metric the expression aggregates.
      const names = [...expression.matchAll(/\blet_[a-z0-9_]+/g)].map((m) => m[0]);
      for (const [, list] of expression.matchAll(/\bby\s*\(([^)]*)\)/g)) {
        for (const label of list!.split(',').map((l) => l.trim())) {
          for (const name of names) expect([...SPEC_BY_NAME.get(name)!.labels, ...TARGET_LABELS], `${label} in ${expression}`).to.include(label);
        }
      }
      // label_values(metric, label)
      for (const [, name, label] of expression.matchAll(/label_values\((let_[a-z0-9_]+),\s*([a-zA-Z_]+)\)/g)) {
        expect([...SPEC_BY_NAME.get(name!)!.labels, ...TARGET_LABELS]).to.include(label);
      }
    }
  });
});
