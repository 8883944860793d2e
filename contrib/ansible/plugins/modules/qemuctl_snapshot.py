#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qemuctl maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: qemuctl_snapshot
short_description: Manage disk snapshots of qemuctl VMs
description:
  - Creates (C(qemuctl snapshot create), live on a running VM), removes
    (C(qemuctl snapshot rm)) and reverts to (C(qemuctl snapshot revert))
    disk snapshots of a VM's qcow2 disks.
  - C(reverted) always reports a change (the disks go back to the
    snapshot, whatever was written since); the VM must be stopped unless
    I(force=true), which stops it first.
version_added: "1.0.0"
author: qemuctl maintainers (@qemuctl)
extends_documentation_fragment:
  - qemuctl.vm.qemuctl
options:
  vm:
    description: The VM.
    type: str
    required: true
  name:
    description: The snapshot's name.
    type: str
    required: true
  state:
    description: C(present), C(absent) or C(reverted).
    type: str
    choices: [present, absent, reverted]
    default: present
  force:
    description: With C(reverted), stop a running VM first (C(--force)).
    type: bool
    default: false
notes:
  - Supports C(check_mode) and C(diff_mode).
'''

EXAMPLES = r'''
- name: Before the upgrade
  qemuctl.vm.qemuctl_snapshot:
    vm: web1
    name: pre-upgrade

- name: Roll back
  qemuctl.vm.qemuctl_snapshot:
    vm: web1
    name: pre-upgrade
    state: reverted
    force: true
'''

RETURN = r'''
snapshots:
  description: The VM's snapshots after the task (the C(snapshots) of C(qemuctl --json snapshot list)).
  returned: always
  type: list
  elements: dict
'''

from ansible_collections.qemuctl.vm.plugins.module_utils.qemuctl import (
    QemuctlError, find_named, named_spec, qemuctl_module)


def main():
    argument_spec = named_spec(
        ('present', 'absent', 'reverted'),
        vm=dict(type='str', required=True),
        force=dict(type='bool', default=False),
    )
    module, q = qemuctl_module(argument_spec)
    p = module.params
    try:
        snaps = (q.run(['snapshot', 'list', p['vm']], json_out=True) or {}).get('snapshots', [])
        have = find_named(snaps, p['name']) is not None
        args = None
        if p['state'] == 'present' and not have:
            args = ['snapshot', 'create', p['vm'], p['name']]
        elif p['state'] == 'absent' and have:
            args = ['snapshot', 'rm', p['vm'], p['name']]
        elif p['state'] == 'reverted':
            args = ['snapshot', 'revert', p['vm'], p['name']] + (['--force'] if p['force'] else [])
            if not have:
                module.fail_json(msg="VM '%s' has no snapshot '%s' (snapshots: %s)"
                                 % (p['vm'], p['name'], ', '.join(s['name'] for s in snaps) or 'none'),
                                 snapshots=snaps)
        if args is not None and not module.check_mode:
            q.run(args, json_out=True)
            snaps = (q.run(['snapshot', 'list', p['vm']], json_out=True) or {}).get('snapshots', [])
        result = dict(changed=args is not None, snapshots=snaps)
        if module._diff:
            result['diff'] = dict(before={'snapshot': 'present' if have else 'absent'},
                                  after={'snapshot': 'absent' if p['state'] == 'absent' else p['state']})
        module.exit_json(**result)
    except QemuctlError as e:
        q.fail(e)


if __name__ == '__main__':
    main()
