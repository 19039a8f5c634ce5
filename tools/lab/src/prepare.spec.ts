import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { findXzPayload, initScript, moduleLoadOrder, newcArchive, parseImagePackage, recipeId } from '../prepare.mjs';

describe('parseImagePackage', () => {
  it('finds the generic kernel package that linux-image-amd64 depends on', () => {
    expect(parseImagePackage('linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n')).toEqual({
      package: 'linux-image-6.1.0-56-amd64',
      abi: '6.1.0-56',
      kver: '6.1.0-56-amd64',
    });
  });

  it('finds nothing in output without such a dependency (no apt lists yet)', () => {
    expect(parseImagePackage('N: Unable to locate package linux-image-amd64\n')).toBeNull();
    expect(parseImagePackage('linux-image-amd64\n  Depends: linux-image-6.1.0-56-cloud-amd64\n')).toBeNull();
  });
});

describe('moduleLoadOrder', () => {
  const dep = [
    'kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko',
    'kernel/net/9p/9pnet.ko:',
    'kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko',
    'kernel/fs/netfs/netfs.ko:',
    'kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio_ring.ko',
    'kernel/drivers/virtio/virtio_ring.ko:',
    'kernel/fs/overlayfs/overlay.ko:',
  ].join('\n');

  it('puts every dependency before the module that needs it, each once', () => {
    expect(moduleLoadOrder(dep, ['9pnet_virtio', '9p', 'overlay'])).toEqual([
      'kernel/net/9p/9pnet.ko',
      'kernel/drivers/virtio/virtio_ring.ko',
      'kernel/net/9p/9pnet_virtio.ko',
      'kernel/fs/netfs/netfs.ko',
      'kernel/fs/fscache/fscache.ko',
      'kernel/fs/9p/9p.ko',
      'kernel/fs/overlayfs/overlay.ko',
    ]);
  });

  it('skips builtin modules and names a missing one', () => {
    expect(moduleLoadOrder(dep, ['virtio_pci', 'overlay'], 'kernel/drivers/virtio/virtio_pci.ko\n')).toEqual([
      'kernel/fs/overlayfs/overlay.ko',
    ]);
    expect(() => moduleLoadOrder(dep, ['ip_vs'])).toThrow('module ip_vs is not in modules.dep');
  });
});

describe('newcArchive', () => {
  it('writes an archive that cpio reads back, device node included', () => {
    const archive = newcArchive([
      { name: 'bin', mode: 0o040755 },
      { name: 'dev', mode: 0o040755 },
      { name: 'dev/console', mode: 0o020600, rdev: [5, 1] },
      { name: 'init', mode: 0o100755, data: Buffer.from(initScript) },
    ]);
    expect(archive.length % 4).toBe(0);
    const listing = execFileSync('cpio', ['-itv', '--quiet'], { input: archive, encoding: 'utf8' });
    const lines = listing.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/).pop())).toEqual(['bin', 'dev', 'dev/console', 'init']);
    expect(lines[2]).toMatch(/^crw-------\s.*\s5,\s+1\s/);
    expect(lines[3]).toMatch(new RegExp(`^-rwxr-xr-x\\s+1\\s+root\\s+root\\s+${Buffer.byteLength(initScript)}\\s`));
  });
});

describe('findXzPayload', () => {
  it('finds the xz stream magic inside a bzImage', () => {
    const image = Buffer.concat([Buffer.alloc(1000, 1), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(10)]);
    expect(findXzPayload(image)).toBe(1000);
    expect(findXzPayload(Buffer.alloc(100))).toBe(-1);
  });
});

describe('the initramfs recipe', () => {
  it('hands over to the run\'s stage2.sh from the control share and powers off on any failure', () => {
    expect(initScript).toContain('exec $b switch_root /newroot /bin/sh /run/fulcrum-lab/stage2.sh');
    expect(initScript).toMatch(/fail\(\) \{ echo "fulcrum-lab: init failed: \$\*"; .*poweroff -f/);
    expect(recipeId()).toMatch(/^[0-9a-f]{12}$/);
  });
});
