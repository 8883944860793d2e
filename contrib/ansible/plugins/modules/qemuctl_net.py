#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qemuctl maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: qemuctl_net
short_description: Manage qemuctl's named networks (bridge, gateway, static addresses)
description:
  - Creates (C(qemuctl net create)) and removes (C(qemuctl net rm)) a
    named network on the managed host, a bridge holding the subnet's first
    address as gateway; VM NICs join it with C(network=NAME) in
    M(qemuctl.vm.qemuctl_vm)'s I(nets).
  - A network that exists with another I(subnet), I(bridge) or I(mtu) is an
    error, not changed (remove it first; qemuctl refuses while VMs hold
    addresses in it).
  - Needs CAP_NET_ADMIN on the managed host (C(become)).
version_added: "1.0.0"
author: qemuctl maintainers (@qemuctl)
extends_documentation_fragment:
  - qemuctl.vm.qemuctl
options:
  name:
    description: The network's name.
    type: str
    required: true
  state:
    description: C(present) or C(absent).
    type: str
    choices: [present, absent]
    default: present
  subnet:
    description: The IPv4 subnet, prefix /8 to /30, e.g. C(10.10.0.0/24); required to create.
    type: str
  bridge:
    description: The bridge (qemuctl's default C(qc-NAME)); an existing bridge is adopted.
    type: str
  mtu:
    description: The bridge's MTU (qemuctl's default the kernel's).
    type: int
notes:
  - Supports C(check_mode) and C(diff_mode).
'''

EXAMPLES = r'''
- name: The fleet's private network
  qemuctl.vm.qemuctl_net:
    name: lan
    subnet: 10.10.0.0/24
  become: true
'''

RETURN = r'''
network:
  description: The network (docs/json.md C(network)); null when absent.
  returned: always
  type: dict
'''

from ansible_collections.qemuctl.vm.plugins.module_utils.qemuctl import (
    QemuctlError, find_named, named_spec, qemuctl_module)


def main():
    argument_spec = named_spec(
        ('present', 'absent'),
        subnet=dict(type='str'),
        bridge=dict(type='str'),
        mtu=dict(type='int'),
    )
    module, q = qemuctl_module(argument_spec, required_if=[('state', 'present', ('subnet',))])
    p = module.params
    try:
        have = find_named(q.networks(), p['name'])
        before = {'state': 'present' if have else 'absent'}
        if have:
            before.update(subnet=have.get('subnet'), bridge=have.get('bridge'), mtu=have.get('mtu'))
        if p['state'] == 'absent':
            result = dict(changed=q.remove('net', p['name'], have), network=None)
            after = {'state': 'absent'}
        elif have is not None:
            wrong = []
            for key in ('subnet', 'bridge', 'mtu'):
                if p[key] is not None and p[key] != have.get(key):
                    wrong.append("%s %s (asked %s)" % (key, have.get(key), p[key]))
            if wrong:
                module.fail_json(msg="network '%s' exists with %s; qemuctl does not change a "
                                     "network: remove it (state=absent) and create it again"
                                 % (p['name'], ', '.join(wrong)), network=have)
            result = dict(changed=False, network=have)
            after = before
        else:
            args = ['net', 'create', p['name'], '--subnet', p['subnet']]
            if p['bridge'] is not None:
                args += ['--bridge', p['bridge']]
            if p['mtu'] is not None:
                args += ['--mtu', p['mtu']]
            network = None
            if not module.check_mode:
                q.run(args, json_out=True)
                network = find_named(q.networks(), p['name'])
            result = dict(changed=True, network=network)
            after = {'state': 'present', 'subnet': p['subnet'], 'bridge': p['bridge'] or 'qc-' + p['name'],
                     'mtu': p['mtu'] or 0}
        if module._diff:
            result['diff'] = dict(before=before, after=after)
        module.exit_json(**result)
    except QemuctlError as e:
        q.fail(e)


if __name__ == '__main__':
    main()
