#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qemuctl maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: qemuctl_info
short_description: Gather qemuctl's VMs, images and networks
description:
  - Returns the C(--json) documents of C(qemuctl list), C(image list) and
    C(net list) of the managed host, and with I(name) the VM's
    C(qemuctl info) and C(snapshot list) (docs/json.md, schema version 2).
  - Changes nothing.
version_added: "1.0.0"
author: qemuctl maintainers (@qemuctl)
extends_documentation_fragment:
  - qemuctl.vm.qemuctl
options:
  name:
    description: A VM to describe in detail; a VM that does not exist gives I(exists=false), not an error.
    type: str
notes:
  - Supports C(check_mode) (it changes nothing anyway).
'''

EXAMPLES = r'''
- name: What runs where
  qemuctl.vm.qemuctl_info:
  register: qc
- name: Running VMs of this host
  ansible.builtin.debug:
    msg: "{{ qc.vms | selectattr('state', 'equalto', 'running') | map(attribute='name') | list }}"

- name: One VM
  qemuctl.vm.qemuctl_info:
    name: web1
  register: web1
'''

RETURN = r'''
vms:
  description: C(qemuctl --json list), one C(vm) per VM.
  returned: always
  type: list
  elements: dict
images:
  description: The C(images) of C(qemuctl --json image list).
  returned: always
  type: list
  elements: dict
networks:
  description: C(qemuctl --json net list).
  returned: always
  type: list
  elements: dict
exists:
  description: The VM I(name) exists.
  returned: when name is given
  type: bool
vm:
  description: C(qemuctl --json info NAME) (with C(disks), C(nics), C(autostart)).
  returned: when name is given and the VM exists
  type: dict
snapshots:
  description: The C(snapshots) of C(qemuctl --json snapshot list NAME).
  returned: when name is given and the VM exists
  type: list
  elements: dict
'''

from ansible_collections.qemuctl.vm.plugins.module_utils.qemuctl import (
    QemuctlError, find_named, qemuctl_module)


def main():
    module, q = qemuctl_module(dict(name=dict(type='str')))
    name = module.params['name']
    try:
        result = dict(changed=False, vms=q.vms(), images=q.images(), networks=q.networks())
        if name is not None:
            result['exists'] = find_named(result['vms'], name) is not None
            if result['exists']:
                result['vm'] = q.run(['info', name], json_out=True)
                result['snapshots'] = (q.run(['snapshot', 'list', name], json_out=True)
                                       or {}).get('snapshots', [])
        module.exit_json(**result)
    except QemuctlError as e:
        q.fail(e)


if __name__ == '__main__':
    main()
