import { expect } from 'chai';
import { CLEAR_LINE, LiveLine, formatElapsed, formatLiveLine, type LiveOutput, type LiveSnapshot } from '../../lib/live/index.js';

class FakeStream implements LiveOutput {
  chunks: string[] = [];
  constructor(readonly isTTY: boolean, readonly columns = 200) {}
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
}

function snap(elapsedS: number): LiveSnapshot {
  return {
    elapsedS,
    energyJ: { cpu: 1234.6, gpu: 9040, ram: 0 },
    powerW: { cpu: 45.23, gpu: 210.44, ram: 0 },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('live line', () => {
  it('formats elapsed time, power per component and energy so far', () => {
    const line = formatLiveLine(snap(83.7));
    expect(line).to.contain('1:23');
    expect(line).to.contain('cpu 45.2 W');
    expect(line).to.contain('gpu 210.4 W');
    expect(line).to.contain('10.27 kJ'); // 1234.6 + 9040 J
    expect(line).to.contain('cpu 1.235 kJ');
    expect(line).to.not.contain('ram'); // a component with nothing to show is hidden
    expect(formatElapsed(3725)).to.equal('1:02:05');
    expect(formatElapsed(5)).to.equal('0:05');
  });

  it('cuts the line to the terminal width', () => {
    const line = formatLiveLine(snap(1), 30);
    expect(line.length).to.equal(29);
  });

  it('rewrites one line in place about every interval on a terminal, and erases it on stop', async () => {
    const stream = new FakeStream(true);
    let calls = 0;
    const live = new LiveLine(
      () => {
        calls++;
        return snap(calls);
      },
      { stream, intervalMs: 40 },
    ).start();
    expect(live.enabled).to.equal(true);
    await sleep(230);
    live.stop();
    expect(calls).to.be.within(4, 8);
    const draws = stream.chunks.slice(0, -1);
    for (const c of draws) {
      expect(c.startsWith(CLEAR_LINE)).to.equal(true);
      expect(c).to.not.contain('\n');
    }
    expect(stream.chunks.at(-1)).to.equal(CLEAR_LINE);
    expect(live.running).to.equal(false);
    const after = stream.chunks.length;
    await sleep(100);
    expect(stream.chunks.length).to.equal(after);
  });

  it('writes nothing and takes no snapshot when the stream is not a terminal', async () => {
    const stream = new FakeStream(false);
    let calls = 0;
    const live = new LiveLine(
      () => {
        calls++;
        return snap(1);
      },
      { stream, intervalMs: 10 },
    ).start();
    await sleep(60);
    live.stop();
    expect(live.enabled).to.equal(false);
    expect(calls).to.equal(0);
    expect(stream.chunks).to.deep.equal([]);
  });

  it('skips a refresh whose snapshot throws', async () => {
    const stream = new FakeStream(true);
    let calls = 0;
    const live = new LiveLine(
      () => {
        if (++calls === 1) throw new Error('not running');
        return snap(2);
      },
      { stream, intervalMs: 20 },
    ).start();
    await sleep(70);
    live.stop();
    expect(stream.chunks.length).to.be.greaterThan(1);
  });
});
