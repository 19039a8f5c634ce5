/** A VRRP instance configuration or an advert to encode that cannot be used; `field` names the culprit. */
export class VrrpConfigError extends Error {
  override readonly name = 'VrrpConfigError';
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${message}`, options);
  }
}
