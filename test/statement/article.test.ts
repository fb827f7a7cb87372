import { expect } from 'chai';
import { indefiniteArticle, withArticle } from '../../lib/statement/index.js';

describe('statement: a/an by pronunciation', () => {
  const an = [
    'Intel(R) Core(TM) i7-10610U CPU', // vowel
    'NVIDIA GTX 1080 GPU', // "en-vidia"
    'AMD EPYC 7742', // "ay-em-dee"
    'Apple M1 CPU',
    '8-core CPU', // "eight"
    '11th Gen Intel(R) Core(TM) i5-11400F CPU', // "eleventh"
    '18-core Xeon', // "eighteen"
    '80-core Ampere Altra', // "eighty"
    '800 W server', // "eight hundred"
    'H100 GPU', // "aitch"
    'A100 GPU',
    'M2 Max',
    'RTX 4090', // "ar"
    'HPC node', // "aitch-pee-see"
    'FPGA',
    'SXM module',
    'LLM accelerator',
    'eGPU enclosure', // "ee"
    'iMac',
    'hour-long job', // silent h
    'Ultra 9 CPU', // "ul"
    'EPYC CPU',
    'ARM board',
    'Orin',
    '"Intel" CPU',
    'Nvidia A100', // mixed case, still "en-vidia"
    'x86 server', // "ex"
    'i7 laptop', // "eye"
    'MI300X', // "em-eye"
    'HGX H100 board',
    'Ubuntu workstation', // "oo"
  ];
  const a = [
    'GPU', // "gee"
    'CPU',
    'TPU',
    'Xeon Gold 6248', // "zee-on"
    'Tesla V100',
    'V100 GPU', // "vee"
    'T4 GPU',
    'K80',
    'GTX 1080', // "gee"
    '1080 Ti', // "one thousand…" / "ten eighty"
    '4-core CPU',
    '110-core machine', // "one hundred ten"
    '180 W GPU',
    '2080 Ti',
    'USB accelerator', // "you"
    'unified memory machine', // "you"
    'UNIX server',
    'European cluster', // "you"
    'one-socket server', // "won"
    'RAM-heavy node', // read as a word
    'NUMA node',
    'RISC-V board',
    'Raspberry Pi',
    'Qualcomm Snapdragon',
    'Huawei Ascend 910',
    'Habana Gaudi2',
    'DGX A100', // "dee"
    'UHD Graphics 630', // "you"
    'Jetson Orin',
    'y86 board',
  ];
  for (const phrase of an) it(`an ${phrase}`, () => expect(indefiniteArticle(phrase)).to.equal('an'));
  for (const phrase of a) it(`a ${phrase}`, () => expect(indefiniteArticle(phrase)).to.equal('a'));

  it('withArticle prefixes the phrase unchanged', () => {
    expect(withArticle('NVIDIA H200 GPU')).to.equal('an NVIDIA H200 GPU');
    expect(withArticle('GPU')).to.equal('a GPU');
  });
});
