#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qemuctl maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: qemuctl_image
short_description: Manage qemuctl's catalog of boot images
description:
  - Adds images to qemuctl's catalog on the managed host, from a
    simplestreams index (C(qemuctl image sync), SHA-256 checked by qemuctl)
    or from a file or URL (C(qemuctl image import), with an optional
    expected SHA-256), and removes them (C(qemuctl image rm)).
  - An image that is in the catalog is left alone unless I(update=true)
    (sync only); then qemuctl downloads a newer version when the index has
    one, and the task is changed exactly when it did.
  - An imported image whose recorded source or SHA-256 differs from
    I(source) / I(sha256) is an error, not replaced (remove it first).
version_added: "1.0.0"
author: qemuctl maintainers (@qemuctl)
extends_documentation_fragment:
  - qemuctl.vm.qemuctl
options:
  name:
    description: The catalog name (C(--name) of C(image sync)).
    type: str
    required: true
  state:
    description: C(present) in the catalog, C(absent) removed (refused by qemuctl while VMs use it).
    type: str
    choices: [present, absent]
    default: present
  ref:
    description: Sync from a simplestreams index, C(DISTRO:RELEASE) such as C(ubuntu:24.04).
    type: str
  stream:
    description: The simplestreams index URL (C(--stream); qemuctl's default cloud-images.ubuntu.com).
    type: str
  source:
    description: Import this file or URL (raw, qcow2, vmdk or vhdx, optionally .xz or .gz).
    type: str
  sha256:
    description: The expected SHA-256 of I(source) as given (C(--sha256)).
    type: str
  arch:
    description: The image's architecture (default the host's).
    type: str
  max_size:
    description: Most bytes the download may take (C(--max-size), a size such as C(8G)).
    type: str
  update:
    description: With I(ref), sync even when the image is in the catalog (downloads only a newer version).
    type: bool
    default: false
notes:
  - Supports C(check_mode) (a sync with I(update=true) of an image in the
    catalog reports no change in check mode, as only the download can tell).
seealso:
  - module: qemuctl.vm.qemuctl_vm
'''

EXAMPLES = r'''
- name: Ubuntu 24.04 for amd64, kept current
  qemuctl.vm.qemuctl_image:
    name: noble-amd64
    ref: ubuntu:24.04
    update: true

- name: A local image with a known checksum
  qemuctl.vm.qemuctl_image:
    name: appliance
    source: /srv/images/appliance.qcow2.xz
    sha256: 0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0

- name: No longer needed
  qemuctl.vm.qemuctl_image:
    name: appliance
    state: absent
'''

RETURN = r'''
image:
  description: The catalog entry (docs/json.md C(image)); null when absent or not yet made in check mode.
  returned: always
  type: dict
downloaded:
  description: A sync downloaded a new version.
  returned: always
  type: bool
'''

from ansible_collections.qemuctl.vm.plugins.module_utils.qemuctl import (
    QemuctlError, find_named, named_spec, qemuctl_module)


def image_add(module, q, have):
    """Sync or import; returns (changed, downloaded, image)."""
    p = module.params
    if p['source'] is not None:
        if have is not None:
            mismatch = []
            if have.get('source') != p['source']:
                mismatch.append("source '%s' (asked '%s')" % (have.get('source'), p['source']))
            if p['sha256'] is not None and (have.get('sha256') or '').lower() != p['sha256'].lower():
                mismatch.append("sha256 %s (asked %s)" % (have.get('sha256'), p['sha256']))
            if mismatch:
                module.fail_json(msg="image '%s' is in the catalog with %s; remove it (state=absent) "
                                     "to import another" % (p['name'], ' and '.join(mismatch)),
                                 image=have)
            return False, False, have
        if module.check_mode:
            return True, True, None
        args = ['image', 'import', p['name'], p['source']]
        if p['sha256'] is not None:
            args += ['--sha256', p['sha256']]
        for key, opt in (('arch', '--arch'), ('max_size', '--max-size')):
            if p[key] is not None:
                args += [opt, p[key]]
        return True, True, q.run(args, json_out=True)
    if have is not None and not p['update']:
        return False, False, have
    if module.check_mode:
        return have is None, have is None, have
    args = ['image', 'sync', p['ref'], '--name', p['name']]
    for key, opt in (('arch', '--arch'), ('stream', '--stream'), ('max_size', '--max-size')):
        if p[key] is not None:
            args += [opt, p[key]]
    doc = q.run(args, json_out=True) or {}
    return bool(doc.get('downloaded')), bool(doc.get('downloaded')), doc.get('image')


def main():
    argument_spec = named_spec(
        ('present', 'absent'),
        ref=dict(type='str'),
        stream=dict(type='str'),
        source=dict(type='str'),
        sha256=dict(type='str'),
        arch=dict(type='str'),
        max_size=dict(type='str'),
        update=dict(type='bool', default=False),
    )
    module, q = qemuctl_module(
        argument_spec, mutually_exclusive=[('ref', 'source'), ('sha256', 'ref'), ('stream', 'source')],
        required_if=[('state', 'present', ('ref', 'source'), True)])
    p = module.params
    try:
        have = find_named(q.images(), p['name'])
        if p['state'] == 'absent':
            result = dict(changed=q.remove('image', p['name'], have), image=None, downloaded=False)
            if module._diff:
                result['diff'] = dict(before={'state': 'present' if have else 'absent'},
                                      after={'state': 'absent'})
            module.exit_json(**result)
        changed, downloaded, image = image_add(module, q, have)
        result = dict(changed=changed, image=image, downloaded=downloaded)
        if module._diff:
            result['diff'] = dict(
                before={'state': 'present' if have else 'absent',
                        'sha256': have.get('sha256') if have else None},
                after={'state': 'present',
                       'sha256': image.get('sha256') if image else p['sha256']})
        module.exit_json(**result)
    except QemuctlError as e:
        q.fail(e)


if __name__ == '__main__':
    main()
