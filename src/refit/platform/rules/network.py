"""Microsoft.Network (family NET): what Azure refuses about the networking compute needs. The network effects
(refit.platform.effects.network) raise them."""

from __future__ import annotations

from refit.platform.rules.registry import ErrorTemplate, refusal

NIC = "Microsoft.Network/networkInterfaces"

refusal("NET1", (NIC, "Microsoft.Network/loadBalancers"), "A dynamic private IP needs a free address in its subnet",
        "MicrosoftDocs/azure-docs#88211 quotes the answer (inside a deployment's details: 'Subnet Subnet1 with address "
        "prefix 10.0.0.0/24 does not have enough capacity for 1 IP addresses.'); Azure/karpenter-provider-azure#734: "
        "RESPONSE 400, ERROR CODE SubnetIsFull. Five addresses of every subnet are Azure's "
        "(https://learn.microsoft.com/azure/virtual-network/virtual-networks-faq)",
        doc="""An IP configuration that takes its private address dynamically gets the lowest free address of its subnet
        that is not one of the five Azure reserves (the first four and the last); when none is left, the write is
        refused.""",
        errors=(ErrorTemplate(400, "SubnetIsFull", "Subnet {subnet} with address prefix {prefix} does not have enough "
                                                   "capacity for 1 IP addresses."),),
        confidence="H")
