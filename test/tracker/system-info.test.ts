import { expect } from 'chai';
import { glibcVersion, operatingSystem } from '../../lib/tracker/system-info.js';

describe('tracker: system facts', () => {
  it('names the glibc this process runs on, as the diagnostic report does, without making one', function () {
    const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
    const expected = report.header?.glibcVersionRuntime;
    if (process.platform !== 'linux' || expected === undefined) {
      throw new Error('this test needs Linux with glibc (the platform the package is built for)');
    }
    expect(glibcVersion()).to.equal(expected);
    expect(operatingSystem()).to.match(new RegExp(`-with-glibc${expected.replaceAll('.', '\\.')}$`));
  });
});
