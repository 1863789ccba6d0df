// Trusted Types: index.html's Content-Security-Policy makes every HTML and script sink demand a
// trusted value (require-trusted-types-for 'script'), so no string, typed by a person or not, can
// become markup or script on this page; text goes in through textContent only. The one such sink
// the app uses on purpose is the Worker constructor's script URL: this default policy lets
// same-origin URLs through and refuses the rest. Imported first by main.ts.

interface TrustedTypesFactory {
  createPolicy(name: string, rules: { createScriptURL: (input: string) => string }): unknown;
}

const factory = (globalThis as { trustedTypes?: TrustedTypesFactory }).trustedTypes;
factory?.createPolicy('default', {
  createScriptURL(input: string): string {
    const url = new URL(input, location.href);
    if (url.origin !== location.origin) throw new TypeError(`refused a script from another origin: ${url.origin}`);
    return url.href;
  },
});
