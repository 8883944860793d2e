# -*- coding: utf-8 -*-
# Copyright: qemuctl maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # The options every qemuctl module takes (module_utils/qemuctl.py COMMON_ARGS).
    DOCUMENTATION = r'''
options:
  root:
    description:
      - The qemuctl state root (C(--root)); default qemuctl's own
        (C($QEMUCTL_ROOT), C(/var/lib/qemuctl) for root, C(~/.local/share/qemuctl) for users).
    type: path
  qemuctl:
    description: The qemuctl command on the managed host, a name looked up on C(PATH) or a path.
    type: path
    default: qemuctl
requirements:
  - qemuctl on the managed host
'''
