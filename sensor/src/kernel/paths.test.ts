import { describe, expect, it } from 'vitest';
import { ProbeFlag } from './layout';
import { compileProbes, DEFAULT_PATH_CLASSES, PathMatcher } from './paths';

describe('sensitive path classes', () => {
  const matcher = new PathMatcher(DEFAULT_PATH_CLASSES);

  it.each([
    ['/var/run/secrets/kubernetes.io/serviceaccount/token', 'service_account_token'],
    ['/run/secrets/kubernetes.io/serviceaccount/..2024_01_01/namespace', 'service_account_token'],
    ['/tmp/x/pod/serviceaccount/token', 'service_account_token'],
    ['/etc/shadow', 'shadow'],
    ['/etc/gshadow', 'shadow'],
    ['/home/u/.aws/credentials', 'cloud_credentials'],
    ['/root/.config/gcloud/application_default_credentials.json', 'cloud_credentials'],
    ['/home/u/.azure/msal_token_cache.json', 'cloud_credentials'],
    ['/home/u/.ssh/id_ed25519', 'key_material'],
    ['/srv/tls/server.key', 'key_material'],
    ['/usr/lib/python3/dist-packages/certifi/cacert.pem', 'key_material'],
    ['/etc/ssl/private/ssl-cert-snakeoil.key', 'key_material'],
    ['/home/u/.kube/config', 'kube_config'],
    // normalised before matching
    ['/etc/ssl/../shadow', 'shadow'],
    ['/home/u/./.ssh//id_rsa', 'key_material'],
  ])('%s -> %s', (p, cls) => {
    expect(matcher.classify(p)).toBe(cls);
  });

  it.each(['/etc/shadow-', '/etc/shadowx', '/etc/passwd', '/home/u/.ssh/known_hosts', '/home/u/.kube/config.bak', '/tmp/token', '/etc/ssl/certs/ca.crt'])(
    '%s matches no class',
    (p) => {
      expect(matcher.classify(p)).toBeUndefined();
    },
  );

  it('compiles each pattern into the probe every match must contain', () => {
    const { probes, bigrams } = compileProbes(DEFAULT_PATH_CLASSES);
    const byText = Object.fromEntries(probes.map((p) => [`${p.kind}:${p.text.toString()}`, p.flags]));
    expect(byText).toEqual({
      'prefix:/var/run/secrets/kubernetes.io/serviceaccount/': ProbeFlag.COMPLETE,
      'prefix:/run/secrets/kubernetes.io/serviceaccount/': ProbeFlag.COMPLETE,
      'suffix:/serviceaccount/token': ProbeFlag.COMPLETE,
      'prefix:/etc/shadow': ProbeFlag.EXACT | ProbeFlag.COMPLETE,
      'prefix:/etc/gshadow': ProbeFlag.EXACT | ProbeFlag.COMPLETE,
      'suffix:/.aws/credentials': ProbeFlag.COMPLETE,
      'segment:/.config/gcloud/': ProbeFlag.COMPLETE,
      'segment:/.azure/': ProbeFlag.COMPLETE,
      'segment:/.ssh/id_': ProbeFlag.COMPLETE,
      'suffix:.pem': ProbeFlag.COMPLETE,
      'suffix:.key': ProbeFlag.COMPLETE,
      'prefix:/etc/ssl/private/': ProbeFlag.COMPLETE,
      'suffix:/.kube/config': ProbeFlag.COMPLETE,
    });
    expect([...bigrams]).toEqual([('/'.charCodeAt(0) << 8) | '.'.charCodeAt(0)]);
  });

  it('marks an exact prefix that hides a shorter one, and compound globs as incomplete', () => {
    const { probes } = compileProbes([
      { name: 'a', patterns: ['/etc/', '/etc/shadow', '/home/*/.ssh/*'] },
      { name: 'b', patterns: ['*.tar.*'] },
    ]);
    const flags = Object.fromEntries(probes.map((p) => [`${p.kind}:${p.text.toString()}`, p.flags]));
    expect(flags['prefix:/etc/shadow']).toBe(ProbeFlag.EXACT | ProbeFlag.SHORTER | ProbeFlag.COMPLETE);
    expect(flags['prefix:/home/']).toBe(0); // the rest of the glob is checked in user space
    expect(flags['segment:.tar.']).toBe(ProbeFlag.COMPLETE);
    const m = new PathMatcher([{ name: 'a', patterns: ['/home/*/.ssh/*'] }]);
    expect(m.classify('/home/u/.ssh/id_rsa')).toBe('a');
    expect(m.classify('/home/u/notes')).toBeUndefined();
  });

  it('refuses patterns that match everything', () => {
    expect(() => compileProbes([{ name: 'all', patterns: ['*'] }])).toThrow(/matches everything/);
    expect(() => new PathMatcher([{ name: 'none', patterns: [''] }])).toThrow(/matches everything/);
  });
});
