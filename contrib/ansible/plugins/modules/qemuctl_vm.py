#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: qemuctl maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: qemuctl_vm
short_description: Manage QEMU/KVM virtual machines with qemuctl, without libvirt
description:
  - Creates, changes, starts, stops, restarts and deletes virtual machines
    with the C(qemuctl) command on the managed host (no libvirt, no daemon).
  - The create options have the names of C(qemuctl create)'s options
    (C(--disk-image) is I(disk_image), repeatable ones are lists).
  - I(cpus), I(memory), I(kernel), I(initrd), I(append) and I(accel) are
    compared with the existing VM's definition (C(qemuctl dumpxml)). A
    difference on a stopped VM is applied with C(qemuctl define); on a
    running VM it cannot be (qemuctl redefines only stopped VMs), so the
    module changes nothing, returns I(restart_required=true) and warns;
    C(state=restarted) applies it between the stop and the start.
  - The other create options (I(image), I(disk_image), I(disk_size),
    I(disks), I(nets), I(shares), I(hostname), I(ssh_keys), I(user_data),
    I(network_config), I(seed), I(seed_bus), I(arch)) are used only when the
    VM is created. A later change of I(arch), I(disk_image) or I(hostname) is
    detected and warned about (delete and recreate the VM to apply it);
    disks and NICs are changed on a running VM with C(qemuctl attach-disk)
    and C(attach-net).
version_added: "1.0.0"
author: qemuctl maintainers (@qemuctl)
extends_documentation_fragment:
  - qemuctl.vm.qemuctl
options:
  name:
    description: The VM's name (1 to 63 characters, a letter or digit first).
    type: str
    required: true
  state:
    description:
      - C(present) the VM is defined, whatever it runs; C(running) defined and
        running (a paused VM is resumed); C(stopped) defined and not running
        (C(qemuctl stop) presses the ACPI power button, then quits QEMU, then kills it);
        C(restarted) stopped if it runs, pending definition changes applied,
        started (always changed); C(absent) deleted with its overlay, owned
        disks and seed (C(qemuctl delete --force), a running VM is destroyed
        first).
    type: str
    choices: [present, running, stopped, restarted, absent]
    default: present
  image:
    description: Boot disk, an overlay on this catalog image (see M(qemuctl.vm.qemuctl_image)).
    type: str
  disk_image:
    description: Boot disk, a qcow2 overlay whose read-only backing is this file.
    type: path
  kernel:
    description: Direct kernel boot, the kernel file.
    type: path
  initrd:
    description: Initial ramdisk for I(kernel).
    type: path
  append:
    description: Kernel command line for I(kernel).
    type: str
  arch:
    description: C(x86_64) (default the host's), C(aarch64), C(ppc64le) (aliases C(amd64), C(arm64), C(ppc64el)).
    type: str
  accel:
    description: C(auto) (KVM when usable, else TCG), C(kvm) or C(tcg).
    type: str
    choices: [auto, kvm, tcg]
  cpus:
    description: Virtual CPUs (qemuctl's default 1).
    type: int
  memory:
    description: RAM, a qemuctl size such as C(512M) or C(2G) (qemuctl's default 512M).
    type: str
  disk_size:
    description: Grow the boot disk to this size at creation.
    type: str
  disks:
    description: Extra disks, each a size (a new qcow2 disk owned by the VM) or a file (attached as it is).
    type: list
    elements: str
  nets:
    description:
      - NICs, each a C(--net) spec, e.g. C(user,hostfwd=tcp:2222-:22),
        C(network=lan,ip=10.10.0.5), C(bridge=br0) or C(none).
      - Without it the VM gets one user-mode NIC with guest port 22 forwarded.
    type: list
    elements: str
  shares:
    description: Host directories shared over 9p, each C(HOSTDIR:TAG[:ro]).
    type: list
    elements: str
  hostname:
    description: The guest's host name (seed).
    type: str
  ssh_keys:
    description: Public key files for the seed's user (default C(~/.ssh/id_*.pub) of the user running qemuctl).
    type: list
    elements: path
  user_data:
    description: A file on the managed host used as the seed's user-data (#cloud-config or a script).
    type: path
  network_config:
    description: A file on the managed host used as the seed's network-config (version 2).
    type: path
  seed:
    description: Give the VM a NoCloud seed; C(false) is C(--no-seed).
    type: bool
    default: true
  seed_bus:
    description: How the seed is attached (default the architecture's).
    type: str
    choices: [cdrom, virtio]
  autostart:
    description: Start the VM at host boot (C(qemuctl autostart)); unset leaves it as it is.
    type: bool
  wait:
    description: When starting, return only when the guest finished first boot (C(qemuctl start --wait)).
    type: bool
    default: false
  wait_timeout:
    description: Seconds I(wait) waits (qemuctl's default 300).
    type: int
  stop_timeout:
    description: Seconds the guest gets to power off before qemuctl quits QEMU (qemuctl's default 60).
    type: int
notes:
  - Supports C(check_mode) and C(diff_mode).
  - Needs the qemuctl CLI on the managed host; nothing else beyond ansible-core.
seealso:
  - module: qemuctl.vm.qemuctl_info
  - module: qemuctl.vm.qemuctl_snapshot
'''

EXAMPLES = r'''
- name: A VM from a synced cloud image, running, started at boot
  qemuctl.vm.qemuctl_vm:
    name: web1
    image: noble-amd64
    cpus: 2
    memory: 2G
    disk_size: 20G
    nets: ["network=lan,ip=10.10.0.11"]
    hostname: web1
    ssh_keys: [/root/.ssh/id_ed25519.pub]
    autostart: true
    state: running
    wait: true

- name: Give it more memory; applied at once when stopped, else restart_required
  qemuctl.vm.qemuctl_vm:
    name: web1
    memory: 4G
  register: web1
- name: Apply it with a restart
  qemuctl.vm.qemuctl_vm:
    name: web1
    memory: 4G
    state: restarted
  when: web1.restart_required

- name: Direct kernel boot on a private state root
  qemuctl.vm.qemuctl_vm:
    name: tiny
    root: /srv/qemuctl
    kernel: /srv/guest/vmlinuz
    initrd: /srv/guest/initrd
    append: console=ttyS0
    seed: false
    state: running

- name: Gone, with its overlay and owned disks
  qemuctl.vm.qemuctl_vm:
    name: tiny
    root: /srv/qemuctl
    state: absent
'''

RETURN = r'''
vm:
  description: C(qemuctl --json info NAME) after the module ran (docs/json.md C(vm)); null when absent or in check mode before creation.
  returned: always
  type: dict
restart_required:
  description: The definition differs from what the running VM runs with; C(state=restarted) applies it.
  returned: always
  type: bool
pending:
  description: The definition fields that differ, each C({before, after}) (memory in bytes).
  returned: always
  type: dict
commands:
  description: The qemuctl commands that changed something (in check mode, those that would have).
  returned: always
  type: list
  elements: list
'''

import os
import tempfile
import xml.etree.ElementTree as ET

from ansible_collections.qemuctl.vm.plugins.module_utils.qemuctl import (
    QemuctlError, named_spec, parse_size, qemuctl_module)

QC_NS = 'https://qemuctl.dev/xmlns/domain/1'
ET.register_namespace('qemuctl', QC_NS)

# The fields `define` can change, compared with the domain XML.
REDEFINABLE = ('cpus', 'memory', 'kernel', 'initrd', 'append', 'accel')
ARCH_ALIASES = {'amd64': 'x86_64', 'arm64': 'aarch64', 'ppc64el': 'ppc64le'}


def xml_definition(root):
    """The comparable fields of a domain XML element tree."""
    d = {}
    mem = root.find('memory')
    if mem is not None and mem.text:
        unit = mem.get('unit', 'KiB')
        shift = {'b': 0, 'bytes': 0, 'KiB': 10, 'k': 10, 'MiB': 20, 'M': 20,
                 'GiB': 30, 'G': 30}.get(unit, 10)
        d['memory'] = int(mem.text.strip()) << shift
    vcpu = root.find('vcpu')
    d['cpus'] = int(vcpu.text.strip()) if vcpu is not None and vcpu.text else 1
    os_el = root.find('os')
    for tag, key in (('kernel', 'kernel'), ('initrd', 'initrd'), ('cmdline', 'append')):
        el = os_el.find(tag) if os_el is not None else None
        d[key] = el.text if el is not None and el.text else None
    typ = os_el.find('type') if os_el is not None else None
    d['arch'] = typ.get('arch') if typ is not None else None
    acc = root.find('metadata/{%s}domain/{%s}accel' % (QC_NS, QC_NS))
    d['accel'] = acc.text if acc is not None and acc.text else 'auto'
    host = root.find('metadata/{%s}domain/{%s}seed/{%s}hostname' % (QC_NS, QC_NS, QC_NS))
    d['hostname'] = host.text if host is not None else None
    d['disk_image'] = None
    for disk in root.findall('devices/disk'):
        target = disk.find('target')
        src = disk.find('backingStore/source')
        if target is not None and target.get('dev') == 'vda' and src is not None:
            d['disk_image'] = src.get('file')
    return d


def set_definition(root, want):
    """Write the REDEFINABLE fields of `want` into the domain XML tree."""
    if 'cpus' in want:
        root.find('vcpu').text = str(want['cpus'])
    if 'memory' in want:
        mem = root.find('memory')
        if want['memory'] % 1024:
            mem.set('unit', 'b')
            mem.text = str(want['memory'])
        else:
            mem.set('unit', 'KiB')
            mem.text = str(want['memory'] // 1024)
    os_el = root.find('os')
    order = ['type', 'loader', 'nvram', 'kernel', 'initrd', 'cmdline']
    for tag, key in (('kernel', 'kernel'), ('initrd', 'initrd'), ('cmdline', 'append')):
        if key not in want:
            continue
        el = os_el.find(tag)
        if el is None:
            el = ET.Element(tag)
            pos = 0
            for i, child in enumerate(list(os_el)):
                if child.tag in order and order.index(child.tag) < order.index(tag):
                    pos = i + 1
            os_el.insert(pos, el)
        el.text = want[key]
    if 'accel' in want:
        acc = root.find('metadata/{%s}domain/{%s}accel' % (QC_NS, QC_NS))
        acc.text = want['accel']


def desired_definition(module):
    p = module.params
    want = {}
    for key in ('cpus', 'kernel', 'initrd', 'append', 'accel'):
        if p[key] is not None:
            want[key] = p[key]
    if p['memory'] is not None:
        size = parse_size(p['memory'])
        if size is None:
            module.fail_json(msg="memory: '%s' is not a size (N[K|M|G|T], e.g. 512M or 2G)" % p['memory'])
        want['memory'] = size
    return want


def create_args(p):
    args = ['create', p['name']]
    single = (('image', '--image'), ('disk_image', '--disk-image'), ('kernel', '--kernel'),
              ('initrd', '--initrd'), ('append', '--append'), ('arch', '--arch'),
              ('accel', '--accel'), ('cpus', '--cpus'), ('memory', '--memory'),
              ('disk_size', '--disk-size'), ('hostname', '--hostname'),
              ('user_data', '--user-data'), ('network_config', '--network-config'),
              ('seed_bus', '--seed-bus'))
    for key, opt in single:
        if p[key] is not None:
            args += [opt, p[key]]
    many = (('disks', '--disk'), ('nets', '--net'), ('shares', '--share'), ('ssh_keys', '--ssh-key'))
    for key, opt in many:
        for value in p[key] or []:
            args += [opt, value]
    if not p['seed']:
        args.append('--no-seed')
    return args


class VmModule(object):
    def __init__(self, module, q):
        self.module = module
        self.p = module.params
        self.q = q
        self.changed = False
        self.commands = []
        self.restart_required = False
        self.pending = {}

    def do(self, args):
        """Run a changing command (only record it in check mode)."""
        if not self.module.check_mode:
            self.q.run(args)
        self.changed = True
        self.commands.append(self.q.argv(args))

    def domain(self):
        text = self.q.run(['dumpxml', self.p['name']])
        try:
            return ET.fromstring(text)
        except ET.ParseError as e:
            self.module.fail_json(msg="qemuctl dumpxml %s printed XML that does not parse: %s"
                                  % (self.p['name'], e))

    def define(self, tree, want):
        set_definition(tree, want)
        fd, path = tempfile.mkstemp(prefix='qemuctl-ansible-', suffix='.xml')
        try:
            with os.fdopen(fd, 'w') as f:
                f.write(ET.tostring(tree, encoding='unicode'))
            self.do(['define', path])
        finally:
            os.unlink(path)

    def compare(self, current):
        """Fill self.pending with the REDEFINABLE fields that differ; warn
        about creation-only ones that differ.  Returns the domain tree."""
        tree = self.domain()
        have = xml_definition(tree)
        want = desired_definition(self.module)
        for key in REDEFINABLE:
            if key in want and want[key] != have.get(key):
                self.pending[key] = {'before': have.get(key), 'after': want[key]}
        created_only = []
        arch = self.p['arch']
        if arch is not None and ARCH_ALIASES.get(arch, arch) != have['arch']:
            created_only.append('arch (%s, asked %s)' % (have['arch'], arch))
        if self.p['hostname'] is not None and self.p['hostname'] != have['hostname']:
            created_only.append('hostname (%s, asked %s)' % (have['hostname'], self.p['hostname']))
        if self.p['disk_image'] is not None and self.p['disk_image'] != have['disk_image']:
            created_only.append('disk_image (%s, asked %s)' % (have['disk_image'], self.p['disk_image']))
        if created_only:
            self.module.warn("VM '%s' exists with a different %s: qemuctl sets these only when it "
                             "creates a VM; delete it (state=absent) and create it again to change them"
                             % (self.p['name'], ', '.join(created_only)))
        return tree, have

    def apply_pending(self, tree):
        if self.pending:
            self.define(tree, dict((k, v['after']) for k, v in self.pending.items()))

    def run(self):
        p = self.p
        name = p['name']
        current = self.q.vm_state(name)
        before = {'state': current['state'] if current else 'absent'}
        after = dict(before)

        if p['state'] == 'absent':
            if current:
                self.do(['delete', name, '--force'])
                after = {'state': 'absent'}
            return self.result(before, after, None)

        tree = None
        if current is None:
            self.do(create_args(p))
            after['state'] = 'stopped'
            after.update(desired_definition(self.module))
        else:
            tree, have = self.compare(current)
            for key in REDEFINABLE:
                before[key] = have.get(key)
                after[key] = self.pending[key]['after'] if key in self.pending else have.get(key)
            if self.pending:
                if current['state'] in ('stopped', 'crashed'):
                    self.apply_pending(tree)
                elif p['state'] != 'restarted':
                    self.restart_required = True
                    self.module.warn(
                        "VM '%s' is %s: its definition change (%s) is not applied; qemuctl "
                        "redefines only stopped VMs. Stop it or use state=restarted to apply it"
                        % (name, current['state'], ', '.join(sorted(self.pending))))

        if p['autostart'] is not None:
            have_auto = False
            if current is not None:
                have_auto = bool(self.q.run(['info', name], json_out=True).get('autostart'))
            before['autostart'] = have_auto
            after['autostart'] = p['autostart']
            if have_auto != p['autostart']:
                self.do(['autostart', name] + ([] if p['autostart'] else ['--disable']))

        run_state = current['state'] if current else 'stopped'
        start = ['start', name]
        if p['wait']:
            start.append('--wait')
            if p['wait_timeout'] is not None:
                start += ['--timeout', p['wait_timeout']]
        stop = ['stop', name]
        if p['stop_timeout'] is not None:
            stop += ['--timeout', p['stop_timeout']]
        if p['state'] == 'running':
            if run_state == 'paused':
                self.do(['resume', name])
            elif run_state != 'running':
                self.do(start)
            after['state'] = 'running'
        elif p['state'] == 'stopped':
            if run_state in ('running', 'paused'):
                self.do(stop)
            after['state'] = 'stopped'
        elif p['state'] == 'restarted':
            if run_state in ('running', 'paused'):
                self.do(stop)
            if tree is not None and run_state not in ('stopped', 'crashed'):
                self.apply_pending(tree)
            self.do(start)
            after['state'] = 'running'
        return self.result(before, after, name)

    def result(self, before, after, name):
        vm = None
        if name is not None and not (self.module.check_mode and self.q.vm_state(name) is None):
            vm = self.q.run(['info', name], json_out=True)
        res = dict(changed=self.changed, vm=vm, restart_required=self.restart_required,
                   pending=self.pending, commands=self.commands)
        if self.module._diff:
            res['diff'] = dict(before=before, after=after)
        return res


def main():
    argument_spec = named_spec(
        ('present', 'running', 'stopped', 'restarted', 'absent'),
        image=dict(type='str'),
        disk_image=dict(type='path'),
        kernel=dict(type='path'),
        initrd=dict(type='path'),
        append=dict(type='str'),
        arch=dict(type='str'),
        accel=dict(type='str', choices=['auto', 'kvm', 'tcg']),
        cpus=dict(type='int'),
        memory=dict(type='str'),
        disk_size=dict(type='str'),
        disks=dict(type='list', elements='str'),
        nets=dict(type='list', elements='str'),
        shares=dict(type='list', elements='str'),
        hostname=dict(type='str'),
        ssh_keys=dict(type='list', elements='path', no_log=False),
        user_data=dict(type='path'),
        network_config=dict(type='path'),
        seed=dict(type='bool', default=True),
        seed_bus=dict(type='str', choices=['cdrom', 'virtio']),
        autostart=dict(type='bool'),
        wait=dict(type='bool', default=False),
        wait_timeout=dict(type='int'),
        stop_timeout=dict(type='int'),
    )
    module, q = qemuctl_module(argument_spec, mutually_exclusive=[('image', 'disk_image')])
    vm = VmModule(module, q)
    try:
        module.exit_json(**vm.run())
    except QemuctlError as e:
        vm.q.fail(e, changed=vm.changed, commands=vm.commands)


if __name__ == '__main__':
    main()
