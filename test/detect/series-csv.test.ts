// The series reader refuses what a detector must not be fed, naming the line, and reads the forms
// the real data uses (NAB's "YYYY-MM-DD HH:MM:SS", ISO 8601 with a zone, epoch seconds).
import { describe, expect, it } from 'vitest';
import { parseSeriesCsv, parseTimestamp } from '../../src/detect/series-csv.ts';

describe('series CSV', () => {
  it('reads timestamps as UTC in each accepted form', () => {
    expect(parseTimestamp('2014-02-14 14:30:00')).toBe(Date.UTC(2014, 1, 14, 14, 30));
    expect(parseTimestamp('2014-02-14 14:30:00.000000')).toBe(Date.UTC(2014, 1, 14, 14, 30));
    expect(parseTimestamp('1998-04-30T21:30:00Z')).toBe(Date.UTC(1998, 3, 30, 21, 30));
    expect(parseTimestamp('1998-04-30T23:30:00+02:00')).toBe(Date.UTC(1998, 3, 30, 21, 30));
    expect(parseTimestamp('1392388200')).toBe(Date.UTC(2014, 1, 14, 14, 30));
    expect(parseTimestamp('yesterday')).toBeNaN();
  });

  it('parses a series with its header', () => {
    const s = parseSeriesCsv('timestamp,value\n2014-02-14 14:30:00,0.132\n2014-02-14 14:35:00,0.134\n');
    expect(s.header).toEqual(['timestamp', 'value']);
    expect([...s.values]).toEqual([0.132, 0.134]);
    expect(s.timestamps[1]! - s.timestamps[0]!).toBe(300_000);
  });

  it('keeps a repeated timestamp (a clock going back for daylight saving) but refuses going backwards', () => {
    expect(parseSeriesCsv('t,v\n2014-03-09 03:00:00,1\n2014-03-09 03:00:00,2\n').values).toHaveLength(2);
    expect(() => parseSeriesCsv('t,v\n2014-03-09 03:05:00,1\n2014-03-09 03:00:00,2\n', 'x.csv')).toThrow('x.csv line 3: timestamp 2014-03-09 03:00:00 is before the previous row');
  });

  it('refuses a file without a header, naming line 1', () => {
    expect(() => parseSeriesCsv('2014-02-14 14:30:00,0.132\n', 'x.csv')).toThrow('x.csv line 1: expected a header line');
  });

  it('refuses a value that is not a number, and a timestamp that is not one, naming the line', () => {
    expect(() => parseSeriesCsv('t,v\n2014-02-14 14:30:00,1\n2014-02-14 14:35:00,abc\n', 'x.csv')).toThrow('x.csv line 3: value "abc" is not a number');
    expect(() => parseSeriesCsv('t,v\n2014-02-14 14:30:00,\n', 'x.csv')).toThrow('x.csv line 2: value "" is not a number');
    expect(() => parseSeriesCsv('t,v\nnoon,1\n', 'x.csv')).toThrow('x.csv line 2: "noon" is not a timestamp');
  });

  it('refuses an empty file and a header with no rows', () => {
    expect(() => parseSeriesCsv('', 'x.csv')).toThrow('x.csv is empty');
    expect(() => parseSeriesCsv('timestamp,value\n', 'x.csv')).toThrow('x.csv line 2: no rows after the header');
  });

  it('errors are coded input_invalid with the line', () => {
    try {
      parseSeriesCsv('t,v\n2014-02-14 14:30:00,x\n', 'x.csv');
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'input_invalid', details: { line: 2 } });
    }
  });
});
