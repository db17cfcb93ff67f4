// The detector benchmark's charts: each series' values with the labelled windows shaded, the
// anomaly score on the right-hand axis with the threshold, and a circle where a detection fired.
// Pure: data in, chart specs out (rendered by src/charts).
import type { LineChartSpec } from '../charts/line-chart.ts';
import type { NabSeries } from './nab-corpus.ts';
import { probationaryLength } from './nab-scorer.ts';

/** Series that show the kinds of anomaly in the subset: a seasonal break, spikes, shifts, a quiet one. */
export const REPRESENTATIVE = [
  'artificialWithAnomaly/art_daily_nojump.csv',
  'realAWSCloudwatch/ec2_cpu_utilization_ac20cd.csv',
  'realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv',
  'realAWSCloudwatch/elb_request_count_8c0756.csv',
  'realAWSCloudwatch/grok_asg_anomaly.csv',
  'realAWSCloudwatch/ec2_cpu_utilization_c6585a.csv',
];

export function detectChart(s: NabSeries, scores: ArrayLike<number>, threshold: number, size: { width: number; height: number }): LineChartSpec {
  const markers = [];
  for (let i = 0; i < scores.length; i++) if (scores[i]! >= threshold) markers.push({ x: s.timestamps[i]!, y: s.values[i]! });
  return {
    title: s.name,
    subtitle: `${s.windows.length} labelled window${s.windows.length === 1 ? '' : 's'} (shaded), ${markers.length} detection${markers.length === 1 ? '' : 's'} (circles)`,
    ...size,
    series: [
      { name: 'value', x: s.timestamps, y: s.values, color: '#1f77b4', width: 1 },
      { name: 'anomaly score', x: s.timestamps, y: scores, color: '#d62728', width: 1, axis: 'right' },
    ],
    rightAxis: { label: 'score', min: 0, max: 1 },
    thresholds: [{ value: threshold, axis: 'right', label: `threshold ${threshold.toFixed(3)}`, color: '#d62728' }],
    bands: [
      { from: s.timestamps[0]!, to: s.timestamps[Math.max(0, probationaryLength(s.timestamps.length) - 1)]!, color: '#bbbbbb', label: 'probation' },
      ...s.windows.map(([from, to]) => ({ from, to })),
    ],
    markers,
  };
}
