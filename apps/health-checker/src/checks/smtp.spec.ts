import { describe, expect, it } from 'vitest';
import { completeReply } from './smtp.js';

describe('SMTP reply reader', () => {
  it.each([
    ['220 mx.example ESMTP\r\n', { code: 220, text: 'mx.example ESMTP' }],
    ['250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n', { code: 250, text: '8BITMIME' }],
    ['250\n', { code: 250, text: '' }],
    ['250-mx.example\r\n250-PIPE', null],
    ['22', null],
    ['', null],
    ['HTTP/1.1 400 Bad Request\r\n', 'bad'],
    ['\u0000\u0001garbage', 'bad'],
    ['250-first\r\nnot a reply\r\n', 'bad'],
  ])('reads %j', (input, expected) => {
    expect(completeReply(input)).toEqual(expected);
  });
});
