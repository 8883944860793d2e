# -*- coding: utf-8 -*-
# Copyright: qemuctl maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared code of the qemuctl modules: run the qemuctl CLI on the managed
host, parse its --json documents (docs/json.md, schema version 2) and turn
its errors into the module's msg."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re

from ansible.module_utils.basic import AnsibleModule

# Options every module takes: where the CLI is and which state root it uses.
COMMON_ARGS = dict(
    root=dict(type='path'),
    qemuctl=dict(type='path', default='qemuctl'),
)

_SIZE_RE = re.compile(r'^([0-9]+(?:\.[0-9]+)?)([KMGT]?)(i?B)?$', re.IGNORECASE)
_SIZE_SHIFT = {'': 0, 'K': 10, 'M': 20, 'G': 30, 'T': 40}


def parse_size(text):
    """A qemuctl SIZE (qemuctl-domain(5) SIZES: N[K|M|G|T][iB|B], binary
    suffixes, fractions that give whole bytes) in bytes, or None when it is
    not one; qemuctl checks it again where it is used."""
    m = _SIZE_RE.match(str(text).strip())
    if not m:
        return None
    num, suffix = m.group(1), m.group(2).upper()
    if suffix == '' and m.group(3):
        return None
    whole, dummy, frac = num.partition(".")
    scale = 1 << _SIZE_SHIFT[suffix]
    value = int(whole) * scale
    if frac:
        numer = int(frac) * scale
        denom = 10 ** len(frac)
        if numer % denom:
            return None
        value += numer // denom
    return value if value > 0 else None


class QemuctlError(Exception):
    """qemuctl exited non-zero: its own message and exit code."""

    def __init__(self, cmd, rc, stderr):
        self.cmd = cmd
        self.rc = rc
        self.stderr = stderr
        self.code = None
        msg = stderr.strip() or 'no message'
        # Under --json qemuctl writes its error as one JSON object line,
        # {"error": {"code", "message"[, "hint"]}}, after any {"log": ...} lines.
        for line in reversed(stderr.splitlines()):
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if isinstance(doc, dict) and isinstance(doc.get('error'), dict):
                error = doc['error']
                self.code = error.get('code')
                msg = 'qemuctl: error: %s' % error.get('message', 'no message')
                if error.get('hint'):
                    msg += ' (%s)' % error['hint']
                break
        super(QemuctlError, self).__init__('%s (qemuctl exit code %d)' % (msg, rc))


class Qemuctl(object):
    """The qemuctl CLI on the managed host, on the state root `root`."""

    def __init__(self, module):
        self.module = module
        path = module.params['qemuctl']
        if '/' not in path:
            path = module.get_bin_path(path, required=False)
            if path is None:
                module.fail_json(msg="qemuctl is not installed on the managed host "
                                     "(no 'qemuctl' on PATH; set the qemuctl option to its path)")
        elif not os.path.isfile(path) or not os.access(path, os.X_OK):
            module.fail_json(msg="qemuctl '%s' is not an executable file on the managed host "
                                 "(set the qemuctl option to its path)" % path)
        self.bin = path
        self.root = module.params.get('root')
        self.commands = []

    def argv(self, args, json_out=False):
        cmd = [self.bin]
        if self.root:
            cmd += ['--root', self.root]
        if json_out:
            cmd.append('--json')
        return cmd + [str(a) for a in args]

    def run(self, args, json_out=False):
        """Run qemuctl ARGS; the parsed JSON document with json_out (None when
        it printed nothing), else its stdout.  Raises QemuctlError."""
        cmd = self.argv(args, json_out)
        rc, out, err = self.module.run_command(cmd)
        self.commands.append(cmd)
        if rc != 0:
            raise QemuctlError(cmd, rc, err)
        if not json_out:
            return out
        if not out.strip():
            return None
        try:
            return json.loads(out)
        except ValueError as e:
            raise QemuctlError(cmd, 1, "qemuctl printed no valid JSON (%s): %s" % (e, out[:200]))

    def fail(self, err, **kwargs):
        """Fail the module with qemuctl's message and exit code."""
        self.module.fail_json(msg=str(err), rc=err.rc, cmd=err.cmd, stderr=err.stderr,
                              error_code=err.code, **kwargs)

    def remove(self, what, name, have):
        """`qemuctl WHAT rm NAME` when it exists (have is not None), but not in
        check mode; whether that is a change."""
        if have is not None and not self.module.check_mode:
            self.run([what, 'rm', name], json_out=True)
        return have is not None

    # ---- documents used by several modules
    def vms(self):
        return self.run(['list'], json_out=True) or []

    def vm_state(self, name):
        """The VM's list entry (docs/json.md `vm`), or None when it does not exist."""
        for vm in self.vms():
            if vm.get('name') == name:
                return vm
        return None

    def images(self):
        doc = self.run(['image', 'list'], json_out=True) or {}
        return doc.get('images', [])

    def networks(self):
        return self.run(['net', 'list'], json_out=True) or []


def named_spec(states, **options):
    """The options of a module that manages one named thing: name, state
    (one of states, the first the default), then the module's own."""
    return dict(name=dict(type='str', required=True),
                state=dict(type='str', default=states[0], choices=list(states)),
                **options)


def qemuctl_module(argument_spec, **kwargs):
    """A qemuctl module's AnsibleModule (its own options and COMMON_ARGS,
    check mode supported, kwargs as AnsibleModule takes them) and the
    Qemuctl that runs the CLI for it."""
    module = AnsibleModule(argument_spec=dict(argument_spec, **COMMON_ARGS),
                           supports_check_mode=True, **kwargs)
    return module, Qemuctl(module)


def find_named(items, name):
    for item in items:
        if item.get('name') == name:
            return item
    return None
