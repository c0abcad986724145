"""The emulator's KQL engine: exact answers for the queries refit and its users send Resource Graph."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refit.emulator.kql import KqlError, error_body, run

SUB = "00000000-0000-0000-0000-000000000001"
TENANT = "00000000-0000-0000-0000-0000000000aa"
VM_TYPE = "microsoft.compute/virtualmachines"


def _id(rg: str, kind: str, name: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.Compute/{kind}/{name}"


def _vm(name: str, location: str, tags, *, zones=None, disks=(), rg: str = "rg-app") -> dict:
    return {
        "id": _id(rg, "virtualMachines", name),
        "name": name,
        "type": VM_TYPE,
        "tenantId": TENANT,
        "kind": "",
        "location": location,
        "resourceGroup": rg,
        "subscriptionId": SUB,
        "managedBy": "",
        "sku": None,
        "plan": None,
        "properties": {
            "vmId": f"vmid-{name}",
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {
                "osDisk": {"name": f"{name}-os", "osType": "Linux", "diskSizeGB": 30},
                "dataDisks": [{"name": d, "lun": i, "diskSizeGB": 64} for i, d in enumerate(disks)],
            },
        },
        "tags": tags,
        "identity": None,
        "zones": zones,
        "extendedLocation": None,
    }


WEB1 = _vm(
    "vm-web-01",
    "westeurope",
    {"AutoRefresh": "true", "OsDiskName": "vm-web-01-os-2026-11"},
    zones=["1"],
    disks=("web1-data0", "web1-data1"),
)
WEB2 = _vm("vm-web-02", "westeurope", {"AutoRefresh": "True", "OsDiskName": "vm-web-02-os-2026-10"}, zones=[])
DB1 = _vm("vm-db-01", "northeurope", {"AutoRefresh": "true"}, zones=["2"], disks=("db1-data0",), rg="rg-data")
BATCH = _vm("vm-batch-01", "northeurope", {"AutoRefresh": "false", "team": "batch"})
LEGACY = _vm("vm-legacy", "eastus", None)
DISK = {
    "id": _id("rg-app", "disks", "vm-web-01-os"),
    "name": "vm-web-01-os",
    "type": "microsoft.compute/disks",
    "tenantId": TENANT,
    "kind": "",
    "location": "westeurope",
    "resourceGroup": "rg-app",
    "subscriptionId": SUB,
    "managedBy": WEB1["id"],
    "sku": {"name": "Premium_LRS", "tier": "Premium"},
    "plan": None,
    "properties": {"diskSizeGB": 30, "diskState": "Attached"},
    "tags": {},
    "identity": None,
    "zones": ["1"],
    "extendedLocation": None,
}
RG = {
    "id": f"/subscriptions/{SUB}/resourceGroups/rg-app",
    "name": "rg-app",
    "type": "microsoft.resources/subscriptions/resourcegroups",
    "tenantId": TENANT,
    "kind": "",
    "location": "westeurope",
    "resourceGroup": "rg-app",
    "subscriptionId": SUB,
    "managedBy": "",
    "sku": None,
    "plan": None,
    "properties": {"provisioningState": "Succeeded"},
    "tags": {"owner": "platform"},
    "identity": None,
    "zones": None,
    "extendedLocation": None,
}
RESOURCES = [WEB1, WEB2, DB1, BATCH, LEGACY, DISK]
TABLES = {"Resources": RESOURCES, "ResourceContainers": [RG]}


def q(query: str, tables=None) -> list[dict]:
    return run(query, TABLES if tables is None else tables)


def names(rows: list[dict]) -> list[str]:
    return [r["name"] for r in rows]


# ---------------------------------------------------------------- the seed queries


def test_seed_1_filters_vms_by_tag_ignoring_case_and_returns_whole_rows():
    rows = q('Resources | where type =~ "microsoft.compute/virtualmachines" and tags.AutoRefresh =~ "true"')
    assert rows == [WEB1, WEB2, DB1]
    # Resource Graph's column order, every column present
    assert list(rows[0]) == [
        "id", "name", "type", "tenantId", "kind", "location", "resourceGroup", "subscriptionId", "managedBy",
        "sku", "plan", "properties", "tags", "identity", "zones", "extendedLocation",
    ]  # fmt: skip


def test_seed_2_projects_renamed_member_paths_and_missing_tags_as_null():
    rows = q(
        'Resources | where type =~ "microsoft.compute/virtualmachines" and tags.AutoRefresh =~ "true" '
        "| project id, name, location, resourceGroup, currentOsDiskName=properties.storageProfile.osDisk.name, "
        "newOsDiskName=tags.OsDiskName"
    )
    assert rows == [
        {"id": WEB1["id"], "name": "vm-web-01", "location": "westeurope", "resourceGroup": "rg-app",
         "currentOsDiskName": "vm-web-01-os", "newOsDiskName": "vm-web-01-os-2026-11"},
        {"id": WEB2["id"], "name": "vm-web-02", "location": "westeurope", "resourceGroup": "rg-app",
         "currentOsDiskName": "vm-web-02-os", "newOsDiskName": "vm-web-02-os-2026-10"},
        {"id": DB1["id"], "name": "vm-db-01", "location": "northeurope", "resourceGroup": "rg-data",
         "currentOsDiskName": "vm-db-01-os", "newOsDiskName": None},
    ]  # fmt: skip


def test_seed_3_not_endswith_cs_is_true_when_the_tag_is_missing():
    rows = q(
        'Resources | where type =~ "microsoft.compute/virtualmachines" and tags[\'AutoRefresh\'] =~ "true" '
        "and not(tags['OsDiskName'] endswith_cs \"2026-11\") | project id, name"
    )
    # vm-web-01 already has the 2026-11 disk; vm-db-01 has no OsDiskName tag at all, so it is selected
    assert rows == [{"id": WEB2["id"], "name": "vm-web-02"}, {"id": DB1["id"], "name": "vm-db-01"}]


def test_seed_queries_as_the_bash_script_writes_them_over_several_lines_with_comments():
    query = """
        Resources   // every tracked resource
        | where type =~ "microsoft.compute/virtualmachines"
            and tags["AutoRefresh"] =~ "true"    // double-quoted selector
        | project id, name
    """
    assert q(query) == [{"id": r["id"], "name": r["name"]} for r in (WEB1, WEB2, DB1)]


def test_a_query_starting_with_an_operator_runs_on_resources():
    assert q("where type =~ 'microsoft.compute/disks' | project name") == [{"name": "vm-web-01-os"}]


def test_table_names_match_case_insensitively():
    assert q("resources | count") == [{"Count": 6}]
    assert q("resourcecontainers | project name, tags") == [{"name": "rg-app", "tags": {"owner": "platform"}}]


# ---------------------------------------------------------------- tabular operators


def test_summarize_count_by_location():
    assert q("Resources | summarize count() by location") == [
        {"location": "westeurope", "count_": 3},
        {"location": "northeurope", "count_": 2},
        {"location": "eastus", "count_": 1},
    ]


def test_summarize_named_aggregates_and_group_key_from_tostring():
    rows = q(
        "Resources | where type == 'microsoft.compute/virtualmachines' "
        "| summarize vms = count(), disks = sum(array_length(properties.storageProfile.dataDisks)), "
        "make_set(location), dcount(resourceGroup) by tostring(tags.AutoRefresh)"
    )
    assert rows == [
        {
            "tags_AutoRefresh": "true",
            "vms": 2,
            "disks": 3,
            "set_location": ["westeurope", "northeurope"],
            "dcount_resourceGroup": 2,
        },
        {
            "tags_AutoRefresh": "True",
            "vms": 1,
            "disks": 0,
            "set_location": ["westeurope"],
            "dcount_resourceGroup": 1,
        },
        {
            "tags_AutoRefresh": "false",
            "vms": 1,
            "disks": 0,
            "set_location": ["northeurope"],
            "dcount_resourceGroup": 1,
        },
        {"tags_AutoRefresh": "", "vms": 1, "disks": 0, "set_location": ["eastus"], "dcount_resourceGroup": 1},
    ]


def test_summarize_other_aggregates():
    rows = q(
        "Resources | where type =~ 'microsoft.compute/virtualmachines' | summarize countif(location startswith 'west'), "
        "min(name), max(name), avg(strlen(name)), make_list(name, 2), take_any(kind), any(location)"
    )
    assert rows == [
        {"countif_": 2, "min_name": "vm-batch-01", "max_name": "vm-web-02", "avg_": 9.2,
         "list_name": ["vm-web-01", "vm-web-02"], "kind": "", "any_location": "westeurope"}
    ]  # fmt: skip


def test_summarize_on_empty_input_follows_kusto_defaults():
    # Without `by`: one row; count-like 0, make_list [], others null. With `by`: no rows.
    assert q("Resources | where name == 'none' | summarize count(), sum(1), make_list(name), max(name)") == [
        {"count_": 0, "sum_": None, "list_name": [], "max_name": None}
    ]
    assert q("Resources | where name == 'none' | summarize count() by location") == []


def test_summarize_without_aggregates_lists_distinct_groups():
    assert q("Resources | summarize by location") == [
        {"location": "westeurope"}, {"location": "northeurope"}, {"location": "eastus"},
    ]  # fmt: skip


def test_extend_adds_and_replaces_columns_and_sees_earlier_ones():
    rows = q(
        "Resources | where name startswith 'vm-web' and type == 'microsoft.compute/virtualmachines' | extend osDisk = tostring(properties.storageProfile.osDisk.name), "
        "len = strlen(osDisk), name = toupper(name) | project name, osDisk, len"
    )
    assert rows == [
        {"name": "VM-WEB-01", "osDisk": "vm-web-01-os", "len": 12},
        {"name": "VM-WEB-02", "osDisk": "vm-web-02-os", "len": 12},
    ]


def test_extend_keeps_column_order_and_appends_new_columns():
    rows = q(
        "Resources | take 1 | extend location = 'x', sizeGB = properties.storageProfile.osDisk.diskSizeGB"
    )
    assert list(rows[0]) == [c for c in WEB1] + ["sizeGB"]
    assert rows[0]["location"] == "x" and rows[0]["sizeGB"] == 30


def test_order_by_asc_desc_and_the_default_is_descending():
    assert names(q("Resources | where type =~ 'microsoft.compute/virtualmachines' | order by name asc")) == [
        "vm-batch-01", "vm-db-01", "vm-legacy", "vm-web-01", "vm-web-02",
    ]  # fmt: skip
    assert names(q("Resources | where type =~ 'microsoft.compute/virtualmachines' | sort by name")) == [
        "vm-web-02", "vm-web-01", "vm-legacy", "vm-db-01", "vm-batch-01",
    ]  # fmt: skip


def test_order_by_several_keys_and_nulls_placement():
    rows = q("Resources | project name, location, z = toint(zones[0]) | order by location asc, name desc")
    assert [(r["location"], r["name"]) for r in rows] == [
        ("eastus", "vm-legacy"), ("northeurope", "vm-db-01"), ("northeurope", "vm-batch-01"),
        ("westeurope", "vm-web-02"), ("westeurope", "vm-web-01-os"), ("westeurope", "vm-web-01"),
    ]  # fmt: skip
    # nulls come first ascending, last descending, unless told otherwise
    assert [r["z"] for r in q("Resources | project z = toint(zones[0]) | order by z asc")] == [
        None,
        None,
        None,
        1,
        1,
        2,
    ]
    assert [r["z"] for r in q("Resources | project z = toint(zones[0]) | order by z desc")] == [
        2,
        1,
        1,
        None,
        None,
        None,
    ]
    assert [r["z"] for r in q("Resources | project z = toint(zones[0]) | order by z asc nulls last")] == [
        1,
        1,
        2,
        None,
        None,
        None,
    ]


def test_take_and_limit():
    assert names(q("Resources | take 5")) == [
        "vm-web-01",
        "vm-web-02",
        "vm-db-01",
        "vm-batch-01",
        "vm-legacy",
    ]
    assert names(q("Resources | limit 2")) == ["vm-web-01", "vm-web-02"]
    assert q("Resources | take 0") == []


def test_top_sorts_then_takes():
    assert q("Resources | top 2 by name asc | project name") == [
        {"name": "vm-batch-01"},
        {"name": "vm-db-01"},
    ]
    assert q("Resources | top 1 by name | project name") == [{"name": "vm-web-02"}]


def test_where_isnotempty_zones_keeps_non_null_arrays_even_empty_ones():
    # isempty() is true for null and "" only; dynamic([]) is not empty (isempty-function docs).
    assert names(q("Resources | where isnotempty(zones)")) == [
        "vm-web-01",
        "vm-web-02",
        "vm-db-01",
        "vm-web-01-os",
    ]
    assert names(q("Resources | where isempty(zones)")) == ["vm-batch-01", "vm-legacy"]
    assert names(q("Resources | where array_length(zones) > 0")) == ["vm-web-01", "vm-db-01", "vm-web-01-os"]


def test_mv_expand_data_disks():
    rows = q(
        "Resources | where type =~ 'microsoft.compute/virtualmachines' "
        "| mv-expand disk = properties.storageProfile.dataDisks | project name, disk"
    )
    # arrays expand per element; an empty array gives no row (mv-expand docs)
    assert rows == [
        {"name": "vm-web-01", "disk": {"name": "web1-data0", "lun": 0, "diskSizeGB": 64}},
        {"name": "vm-web-01", "disk": {"name": "web1-data1", "lun": 1, "diskSizeGB": 64}},
        {"name": "vm-db-01", "disk": {"name": "db1-data0", "lun": 0, "diskSizeGB": 64}},
    ]


def test_mv_expand_bags_nulls_itemindex_and_typed():
    rows = q(
        "Resources | where name in ('vm-batch-01', 'vm-legacy') | mv-expand with_itemindex=i tags | project name, tags, i"
    )
    # a bag expands one property per row; null gives one row with null
    assert rows == [
        {"name": "vm-batch-01", "tags": {"AutoRefresh": "false"}, "i": 0},
        {"name": "vm-batch-01", "tags": {"team": "batch"}, "i": 1},
        {"name": "vm-legacy", "tags": None, "i": 0},
    ]
    # `to typeof()` casts, it does not parse: "1" stays a string, and is null as a long
    assert q("Resources | where name == 'vm-web-01' | mv-expand z = zones to typeof(string) | project z") == [
        {"z": "1"}
    ]
    assert q("Resources | where name == 'vm-web-01' | mv-expand z = zones to typeof(long) | project z") == [
        {"z": None}
    ]


def test_count_and_distinct():
    assert q("Resources | where type =~ 'microsoft.compute/virtualmachines' | count") == [{"Count": 5}]
    assert q("Resources | distinct location, type | order by location asc") == [
        {"location": "eastus", "type": VM_TYPE},
        {"location": "northeurope", "type": VM_TYPE},
        {"location": "westeurope", "type": VM_TYPE},
        {"location": "westeurope", "type": "microsoft.compute/disks"},
    ]


def test_project_away_keep_and_rename():
    row = q("Resources | take 1 | project-away properties, tags, *Location, s*")[0]
    assert list(row) == [
        "id",
        "name",
        "type",
        "tenantId",
        "kind",
        "location",
        "resourceGroup",
        "managedBy",
        "plan",
        "identity",
        "zones",
    ]
    assert q(
        "Resources | take 1 | project-keep name, *Id | project-rename vm = name, sub = subscriptionId"
    ) == [{"vm": "vm-web-01", "tenantId": TENANT, "sub": SUB}]


def test_project_names_follow_kusto():
    rows = q(
        "Resources | where name == 'vm-db-01' | project properties.storageProfile.osDisk, tostring(tags.AutoRefresh), "
        "tags['AutoRefresh'], properties.storageProfile.dataDisks[0].lun, strlen(name), name, tostring(name)"
    )
    assert rows == [
        {
            "properties_storageProfile_osDisk": {"name": "vm-db-01-os", "osType": "Linux", "diskSizeGB": 30},
            "tags_AutoRefresh": "true",
            "tags_AutoRefresh1": "true",
            "properties_storageProfile_dataDisks_0_lun": 0,
            "Column1": 8,
            "name": "vm-db-01",
            "name1": "vm-db-01",
        }
    ]


# ---------------------------------------------------------------- scalar semantics


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ("name contains 'WEB'", ["vm-web-01", "vm-web-02", "vm-web-01-os"]),
        ("name contains_cs 'WEB'", []),
        ("name !contains 'web'", ["vm-db-01", "vm-batch-01", "vm-legacy"]),
        ("name has 'web'", ["vm-web-01", "vm-web-02", "vm-web-01-os"]),
        ("name has 'we'", []),  # whole terms only
        ("name hasprefix 'we'", ["vm-web-01", "vm-web-02", "vm-web-01-os"]),
        (
            "id has 'virtualMachines' and name !has 'legacy'",
            ["vm-web-01", "vm-web-02", "vm-db-01", "vm-batch-01"],
        ),
        ("name startswith 'VM-DB'", ["vm-db-01"]),
        ("name startswith_cs 'VM-DB'", []),
        ("name endswith '-os'", ["vm-web-01-os"]),
        ("name !endswith_cs '1'", ["vm-web-02", "vm-legacy", "vm-web-01-os"]),
        ("name matches regex '^vm-(db|batch)-[0-9]+$'", ["vm-db-01", "vm-batch-01"]),
        ("name in ('vm-db-01', 'VM-LEGACY')", ["vm-db-01"]),
        ("name in~ ('vm-db-01', 'VM-LEGACY')", ["vm-db-01", "vm-legacy"]),
        ("name !in ('vm-db-01', 'vm-legacy', 'vm-web-01-os')", ["vm-web-01", "vm-web-02", "vm-batch-01"]),
        ("location !in~ ('WESTEUROPE')", ["vm-db-01", "vm-batch-01", "vm-legacy"]),
        (
            "properties.storageProfile.osDisk.diskSizeGB between (20 .. 30)",
            ["vm-web-01", "vm-web-02", "vm-db-01", "vm-batch-01", "vm-legacy"],
        ),
        ("properties.diskSizeGB !between (31 .. 100)", ["vm-web-01-os"]),
        ("array_length(properties.storageProfile.dataDisks) >= 1", ["vm-web-01", "vm-db-01"]),
        (
            "properties.storageProfile.dataDisks[0].lun == 0 and properties.storageProfile.dataDisks[-1].lun == 1",
            ["vm-web-01"],
        ),
        ("sku.tier == 'Premium' or tags.team == 'batch'", ["vm-batch-01", "vm-web-01-os"]),
        ("managedBy =~ '" + WEB1["id"].upper() + "'", ["vm-web-01-os"]),
        ("(name == 'vm-db-01' or name == 'vm-legacy') and not(name == 'vm-legacy')", ["vm-db-01"]),
        ("name has_any ('legacy', 'batch')", ["vm-batch-01", "vm-legacy"]),
        ("tolower(tags.AutoRefresh) == 'true' and isnotempty(tags.OsDiskName)", ["vm-web-01", "vm-web-02"]),
        ("strcat(resourceGroup, '/', name) == 'rg-data/vm-db-01'", ["vm-db-01"]),
        ("split(id, '/')[4] == 'rg-data'", ["vm-db-01"]),
        (
            "substring(name, 3, 3) == 'web' and indexof(name, 'web') == 3",
            ["vm-web-01", "vm-web-02", "vm-web-01-os"],
        ),
        ("iff(isnull(tags), 'untagged', 'tagged') == 'untagged'", ["vm-legacy"]),
        ("case(location == 'eastus', 1, location == 'northeurope', 2, 3) == 2", ["vm-db-01", "vm-batch-01"]),
        ("coalesce(tags.team, tags.AutoRefresh, 'none') == 'none'", ["vm-legacy", "vm-web-01-os"]),
        ("tobool(tags.AutoRefresh) == true", ["vm-web-01", "vm-web-02", "vm-db-01"]),
        ("toint(zones[0]) + 1 == 2", ["vm-web-01", "vm-web-01-os"]),
        ("tostring(parse_json('{\"a\": [1, 2]}').a) == '[1,2]' and name == 'vm-legacy'", ["vm-legacy"]),
        ("bag_keys(tags)[1] == 'OsDiskName'", ["vm-web-01", "vm-web-02"]),
        ("extract('virtualMachines/vm-(.*)-0', 1, id) == 'web'", ["vm-web-01", "vm-web-02"]),
        (
            "properties.storageProfile.osDisk.osType in (dynamic(['Windows', 'Linux'])) and location == 'eastus'",
            ["vm-legacy"],
        ),
    ],
)
def test_predicates(predicate, expected):
    assert sorted(names(q(f"Resources | where {predicate}"))) == sorted(expected)


def test_missing_dynamic_values_compare_as_empty_strings_and_are_null_for_isnull():
    # strings are never null: a missing tag is "" for string comparisons and string operators
    assert names(q("Resources | where tags.OsDiskName == ''")) == [
        "vm-db-01",
        "vm-batch-01",
        "vm-legacy",
        "vm-web-01-os",
    ]
    assert names(q("Resources | where tags.AutoRefresh =~ 'true'")) == ["vm-web-01", "vm-web-02", "vm-db-01"]
    assert names(q("Resources | where tags.AutoRefresh !~ 'true'")) == [
        "vm-batch-01",
        "vm-legacy",
        "vm-web-01-os",
    ]
    assert names(q("Resources | where tags.OsDiskName !endswith_cs '2026-11' and type =~ 'microsoft.compute/virtualmachines'")) == [
        "vm-web-02", "vm-db-01", "vm-batch-01", "vm-legacy",
    ]  # fmt: skip
    assert names(q("Resources | where isnull(tags.OsDiskName)")) == [
        "vm-db-01",
        "vm-batch-01",
        "vm-legacy",
        "vm-web-01-os",
    ]
    assert names(q("Resources | where isnull(tags)")) == ["vm-legacy"]


def test_null_numbers_follow_kusto_null_rules():
    # one null side: == false, != true; ordering with null is null, which where drops
    assert names(q("Resources | where toint(zones[0]) == 1")) == ["vm-web-01", "vm-web-01-os"]
    assert names(q("Resources | where toint(zones[0]) != 1")) == [
        "vm-web-02",
        "vm-db-01",
        "vm-batch-01",
        "vm-legacy",
    ]
    assert names(q("Resources | where toint(zones[0]) < 5")) == ["vm-web-01", "vm-db-01", "vm-web-01-os"]
    assert names(q("Resources | where not(toint(zones[0]) < 5)")) == []


def test_literals_arithmetic_and_functions():
    row = q(
        "Resources | take 1 | project a = 7 / 2, b = -7 % 3, c = 7.0 / 2, d = 1e3, e = 0x10, f = true, "
        "g = dynamic({'k': [1, 'x', null]}), h = dynamic(null), i = @'C:\\temp', j = \"say \\\"hi\\\"\", "
        "k = datetime(2026-11-01) + 1d, l = datetime(2026-11-02T10:30:00Z) - datetime(2026-11-01), m = 90m, "
        "n = toupper('x'), o = round(2.456, 2), p = gettype(properties), r = strcat_array(dynamic(['a', 'b']), ','), "
        "s = pack_array(1, 'b'), t = bag_pack('k', 1), u = replace_string(name, 'vm-', ''), v = tolong('42'), "
        "w = todouble('1.5'), x = bin(37, 10)"
    )[0]
    assert row == {
        "a": 3, "b": -1, "c": 3.5, "d": 1000.0, "e": 16, "f": True, "g": {"k": [1, "x", None]}, "h": None,
        "i": "C:\\temp", "j": 'say "hi"', "k": "2026-11-02T00:00:00Z", "l": "1.10:30:00", "m": "01:30:00", "n": "X",
        "o": 2.46, "p": "dictionary", "r": "a,b", "s": [1, "b"], "t": {"k": 1}, "u": "web-01", "v": 42, "w": 1.5, "x": 30,
    }  # fmt: skip


def test_now_and_ago_compare_with_datetimes():
    tables = {
        "Resources": [
            dict(WEB1, properties={"timeCreated": "2020-01-01T00:00:00Z"}),
            dict(DB1, properties={"timeCreated": datetime.now(UTC).isoformat()}),
        ]
    }
    assert names(run("Resources | where todatetime(properties.timeCreated) < ago(30d)", tables)) == [
        "vm-web-01"
    ]
    assert names(
        run("Resources | where todatetime(properties.timeCreated) between (ago(1h) .. now())", tables)
    ) == ["vm-db-01"]


def test_the_input_tables_are_not_modified():
    before = copy.deepcopy(TABLES)
    q(
        "Resources | extend x = 1 | project-rename n = name | order by n asc | mv-expand tags | summarize count() by n"
    )
    q("Resources | project-away tags | take 2")
    assert before == TABLES


def test_a_table_with_other_columns_gets_its_schema_from_its_rows():
    tables = {"Custom": [{"a": 1, "b": "x"}, {"a": 2, "c": {"d": True}}]}
    assert run("Custom | where a > 1 | project a, d = c.d", tables) == [{"a": 2, "d": True}]
    assert run("Custom", tables) == [{"a": 1, "b": "x", "c": None}, {"a": 2, "b": None, "c": {"d": True}}]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("query", "code", "line", "position", "token", "message"),
    [
        # Resource Graph's own answer to this query: ParserFailure, line 1, position 42, this token (aztfexport#485)
        (
            "Resources | where resourceGroup =~ DEV-T24' and type contains 'Microsoft.Network' | order by id desc",
            "ParserFailure",
            1,
            42,
            "' and type contains '",
            "Query could not be parsed at '' and type contains '' on line [1,42]",
        ),
        ("Resources | WHERE type == 'x'", "ParserFailure", 1, 12, "WHERE", "did you mean 'where'?"),
        (
            "Resources | where name == 'a' AND type == 'b'",
            "ParserFailure",
            1,
            30,
            "AND",
            "did you mean 'and'?",
        ),
        ("Resources | where name = 'a'", "ParserFailure", 1, 23, "=", "compare with '=='"),
        (
            "Resources | where name == 'abc",
            "ParserFailure",
            1,
            26,
            "'abc",
            "string literal starting with ' is not closed",
        ),
        ("Resources\n| where name ==", "ParserFailure", 2, 15, "<EOF>", "expected a value"),
        ("Resources | project id,", "ParserFailure", 1, 23, "<EOF>", "expected a value"),
        ("Resources | where (name == 'a'", "ParserFailure", 1, 30, "<EOF>", "expected ')'"),
        ("Resources | order name", "ParserFailure", 1, 18, "name", "expected 'by' after 'order'"),
        ("Resources | where name == #", "ParserFailure", 1, 26, "#", "unexpected character '#'"),
        ("Resources where name == 'a'", "ParserFailure", 1, 10, "where", "expected '|'"),
        ("", "ParserFailure", 1, 0, "<EOF>", "the query is empty"),
        (
            "Resources | where foo == 1",
            "SemanticError",
            1,
            18,
            "foo",
            "'where' operator: Failed to resolve scalar expression named 'foo'",
        ),
        (
            "Resources | where name == 1",
            "SemanticError",
            1,
            23,
            "==",
            "Cannot compare values of types string and long",
        ),
        (
            "Resources | where tags == properties",
            "SemanticError",
            1,
            23,
            "==",
            "Cannot compare values of types dynamic and dynamic",
        ),
        ("Resources | where name + 1 == 'a'", "SemanticError", 1, 23, "+", "use strcat()"),
        (
            "Resources | where Tostring(name) == 'a'",
            "SemanticError",
            1,
            18,
            "Tostring",
            "Unknown function: 'Tostring'",
        ),
        (
            "Resources | where strlen(name, 2) > 1",
            "SemanticError",
            1,
            18,
            "strlen",
            "strlen() expects 1 argument(s), got 2",
        ),
        (
            "Resources | where strlen(name)",
            "SemanticError",
            1,
            12,
            "where",
            "the predicate is of type long, not bool",
        ),
        (
            "Resources | summarize count() by tags",
            "SemanticError",
            1,
            33,
            "tags",
            "Summarize group key 'tags' is of a 'dynamic' type. Please use an explicit cast",
        ),
        ("Resources | summarize name", "SemanticError", 1, 22, "name", "must be used inside an aggregation"),
        (
            "Resources | extend n = count()",
            "SemanticError",
            1,
            23,
            "count",
            "can only be used in 'summarize'",
        ),
        (
            "Resources | order by properties.x",
            "SemanticError",
            1,
            32,
            "properties_x",
            "key can't be of dynamic type",
        ),
        (
            "Resources | project name.first",
            "SemanticError",
            1,
            20,
            "name",
            "name is of type string, not dynamic",
        ),
        (
            "Resources | take name",
            "SemanticError",
            1,
            17,
            "name",
            "Failed to resolve scalar expression named 'name'",
        ),
        (
            "Resources | project-away nosuch",
            "SemanticError",
            1,
            25,
            "nosuch",
            "Failed to resolve column 'nosuch'",
        ),
        ("Resources | project a = 1, a = 2", "SemanticError", 1, 27, "a", "column 'a' is declared twice"),
        (
            "Resources | where name matches regex '('",
            "SemanticError",
            1,
            23,
            "matches regex",
            "invalid regular expression",
        ),
        (
            "Foo | take 1",
            "DisallowedLogicalTableName",
            1,
            0,
            "Foo",
            "Table Foo is invalid, unsupported or disallowed",
        ),
        (
            "Resources | lookup (ResourceContainers) on subscriptionId",
            "NotSupportedByEmulator",
            1,
            12,
            "lookup",
            "the 'lookup' operator is not supported by refit's Resource Graph emulator",
        ),
        ("let x = 1; Resources", "NotSupportedByEmulator", 1, 0, "let", "'let' statements are not supported"),
    ],
)
def test_errors_are_kql_errors_naming_the_token_and_position(query, code, line, position, token, message):
    with pytest.raises(KqlError) as info:
        q(query)
    err = info.value
    assert (err.code, err.line, err.position, err.token) == (code, line, position, token)
    assert message in err.message
    assert "\n" not in err.message


def test_error_body_is_resource_graphs_400_body():
    query = (
        "Resources | where resourceGroup =~ DEV-T24' and type contains 'Microsoft.Network' | order by id desc"
    )
    with pytest.raises(KqlError) as info:
        q(query)
    body = error_body(
        info.value,
        timestamp=datetime(2023, 12, 4, 16, 43, 28, 201562, tzinfo=UTC),
        correlation_id="c2c2c2f0-56f3-4ea3-b485-c0aabb23889c",
    )
    assert body == {
        "error": {
            "code": "BadRequest",
            "message": "Please provide below info when asking for support: timestamp = 2023-12-04T16:43:28.2015620Z, "
            "correlationId = c2c2c2f0-56f3-4ea3-b485-c0aabb23889c.",
            "details": [
                {
                    "code": "InvalidQuery",
                    "message": "Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying.",
                },
                {
                    "code": "ParserFailure",
                    "message": "ParserFailure",
                    "line": 1,
                    "characterPositionInLine": 42,
                    "token": "' and type contains '",
                },
            ],
        }
    }


def test_error_body_for_unknown_tables_and_semantic_errors():
    with pytest.raises(KqlError) as info:
        q("AppServiceResources | take 1")
    details = error_body(info.value)["error"]["details"]
    assert details[1] == {
        "code": "DisallowedLogicalTableName",
        "message": "Table AppServiceResources is invalid, unsupported or disallowed.",
    }
    with pytest.raises(KqlError) as info:
        q("Resources | where nope")
    details = error_body(info.value)["error"]["details"]
    assert details[1] == {
        "code": "SemanticError",
        "message": "'where' operator: Failed to resolve scalar expression named 'nope' (line [1,18])",
    }
    message = error_body(info.value)["error"]["message"]
    assert (
        message.startswith("Please provide below info when asking for support: timestamp = ")
        and ", correlationId = " in message
    )


# ---------------------------------------------------------------- properties

_NAMES = st.text(alphabet="abcAB-01", min_size=1, max_size=6)
_TAGS = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["AutoRefresh", "OsDiskName", "env"]),
        st.sampled_from(["true", "TRUE", "false", "x-2026-11", ""]),
        max_size=3,
    ),
)
_ROWS = st.lists(
    st.builds(
        lambda n, loc, tags, zones: _vm(n, loc, tags, zones=zones),
        _NAMES,
        st.sampled_from(["westeurope", "eastus", "northeurope"]),
        _TAGS,
        st.one_of(st.none(), st.lists(st.sampled_from(["1", "2", "3"]), max_size=3)),
    ),
    max_size=25,
    unique_by=lambda r: r["id"],
)
_PREDICATES = {
    "tags.AutoRefresh =~ 'true'": lambda r: str((r["tags"] or {}).get("AutoRefresh", "")).lower() == "true",
    "not(tags['OsDiskName'] endswith_cs '2026-11')": lambda r: (
        not str((r["tags"] or {}).get("OsDiskName", "")).endswith("2026-11")
    ),
    "location in ('westeurope', 'eastus')": lambda r: r["location"] in ("westeurope", "eastus"),
    "name contains 'a'": lambda r: "a" in r["name"].lower(),
    "isnotempty(zones)": lambda r: r["zones"] is not None,
    "name startswith_cs 'A'": lambda r: r["name"].startswith("A"),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_ROWS, n=st.integers(min_value=0, max_value=30))
def test_take_never_returns_more_than_n_rows_and_keeps_their_order(rows, n):
    out = run(f"Resources | take {n}", {"Resources": rows})
    assert len(out) == min(n, len(rows))
    assert out == rows[:n]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_ROWS, a=st.sampled_from(sorted(_PREDICATES)), b=st.sampled_from(sorted(_PREDICATES)))
def test_where_a_and_b_is_the_rows_satisfying_both_separately(rows, a, b):
    tables = {"Resources": rows}
    both = run(f"Resources | where {a} and {b} | project id", tables)
    only_a = {r["id"] for r in run(f"Resources | where {a} | project id", tables)}
    only_b = {r["id"] for r in run(f"Resources | where {b} | project id", tables)}
    assert [r["id"] for r in both] == [r["id"] for r in rows if r["id"] in only_a and r["id"] in only_b]
    # and each predicate means what Kusto says it means
    assert [r["id"] for r in rows if _PREDICATES[a](r)] == [
        r["id"] for r in run(f"Resources | where {a}", tables)
    ]


_TOKENS = st.sampled_from(
    ["Resources", "|", "where", "project", "summarize", "count()", "by", "name", "tags.x", "==", "=~", "'a'", '"b',
     "(", ")", ",", "and", "not(", "1", "mv-expand", "take", "order", "extend", "x", "=", "[0]", ".", "dynamic(", "//c\n", "!", "@", "in", "between"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_TOKENS, max_size=12))
def test_any_text_gives_rows_or_a_kql_error_never_another_exception(tokens):
    try:
        out = run(" ".join(tokens), TABLES)
    except KqlError as err:
        assert err.message and "\n" not in err.message
    else:
        assert isinstance(out, list)


# ---------------------------------------------------------------- speed


def test_where_and_project_over_20000_rows_is_fast():
    rows = []
    for i in range(20_000):
        tags = {"AutoRefresh": "true"} if i % 3 == 0 else {}
        if i % 5 == 0:
            tags["OsDiskName"] = f"vm{i}-os-2026-11"
        rows.append(_vm(f"vm{i}", "westeurope", tags, zones=["1"] if i % 2 else None))
    tables = {"Resources": rows}
    query = (
        'Resources | where type =~ "microsoft.compute/virtualmachines" and tags.AutoRefresh =~ "true" '
        "| project id, name, location, resourceGroup, currentOsDiskName=properties.storageProfile.osDisk.name, "
        "newOsDiskName=tags.OsDiskName"
    )
    out = run(query, tables)
    # Exact outcome only: timing lives in bench/ (this machine is too noisy for thresholds in tests).
    assert len(out) == 6667
    assert out[0] == {"id": rows[0]["id"], "name": "vm0", "location": "westeurope", "resourceGroup": rows[0]["resourceGroup"],
                      "currentOsDiskName": rows[0]["properties"]["storageProfile"]["osDisk"]["name"] if rows[0]["properties"].get("storageProfile") else None,
                      "newOsDiskName": "vm0-os-2026-11"}


# ---------------------------------------------------------------- join, union, parse, arg_max / arg_min (issue 11)
SUBSCRIPTION = {
    "id": f"/subscriptions/{SUB}", "name": "Platform", "type": "microsoft.resources/subscriptions",
    "tenantId": TENANT, "kind": "", "location": "", "resourceGroup": "", "subscriptionId": SUB, "managedBy": "",
    "sku": None, "plan": None, "properties": {"state": "Enabled"}, "tags": {}, "identity": None, "zones": None,
    "extendedLocation": None,
}
CONTAINERS = {"Resources": RESOURCES, "ResourceContainers": [RG, SUBSCRIPTION]}


def test_join_leftouter_brings_the_resource_groups_tags_and_keeps_unmatched_rows():
    rows = q(
        "Resources | where type =~ 'microsoft.compute/virtualmachines' | project name, resourceGroup "
        "| join kind=leftouter (ResourceContainers | where type == 'microsoft.resources/subscriptions/resourcegroups' "
        "| project resourceGroup, owner = tostring(tags.owner)) on resourceGroup | order by name asc",
        CONTAINERS,
    )
    assert rows == [
        {"name": "vm-batch-01", "resourceGroup": "rg-app", "resourceGroup1": "rg-app", "owner": "platform"},
        {"name": "vm-db-01", "resourceGroup": "rg-data", "resourceGroup1": "", "owner": ""},
        {"name": "vm-legacy", "resourceGroup": "rg-app", "resourceGroup1": "rg-app", "owner": "platform"},
        {"name": "vm-web-01", "resourceGroup": "rg-app", "resourceGroup1": "rg-app", "owner": "platform"},
        {"name": "vm-web-02", "resourceGroup": "rg-app", "resourceGroup1": "rg-app", "owner": "platform"},
    ]


def test_join_inner_drops_unmatched_rows_and_takes_left_and_right_key_names():
    rows = q(
        "Resources | where type =~ 'microsoft.compute/virtualmachines' | project vm = name, sub = subscriptionId "
        "| join kind=inner (ResourceContainers | where type == 'microsoft.resources/subscriptions' "
        "| project subscriptionId, subName = name) on $left.sub == $right.subscriptionId "
        "| project vm, subName | order by vm asc | take 2",
        CONTAINERS,
    )
    assert rows == [{"vm": "vm-batch-01", "subName": "Platform"}, {"vm": "vm-db-01", "subName": "Platform"}]


def test_join_innerunique_keeps_one_left_row_per_key_and_inner_keeps_them_all():
    tables = {"L": [{"k": "a", "v": 1}, {"k": "a", "v": 2}, {"k": "b", "v": 3}], "R": [{"k": "a", "w": 10},
                                                                                      {"k": "a", "w": 20}]}
    assert run("L | join R on k | project v, w", tables) == [{"v": 1, "w": 10}, {"v": 1, "w": 20}]
    assert run("L | join kind=inner R on k | project v, w", tables) == [
        {"v": 1, "w": 10}, {"v": 1, "w": 20}, {"v": 2, "w": 10}, {"v": 2, "w": 20}]
    assert run("L | join kind=fullouter (R | where w == 20) on k | project k, v, w", tables) == [
        {"k": "a", "v": 1, "w": 20}, {"k": "a", "v": 2, "w": 20}, {"k": "b", "v": 3, "w": None}]


@pytest.mark.parametrize(("query", "message"), [
    ("Resources | join kind=leftanti ResourceContainers on id",
     "'join' operator: join kind 'leftanti' is not supported by Resource Graph (supported: innerunique, inner, "
     "leftouter, fullouter) (line [1,22])"),
    ("Resources | join hint.strategy=broadcast ResourceContainers on id",
     "'join' operator: Resource Graph does not allow custom join strategies (hint.*) (line [1,17])"),
    ("Resources | join ResourceContainers on nope", "'join' operator: Failed to resolve column 'nope' (line [1,39])"),
])
def test_joins_resource_graph_refuses(query, message):
    with pytest.raises(KqlError) as info:
        q(query, CONTAINERS)
    assert (info.value.code, info.value.message) == ("SemanticError", message)


def test_a_join_syntax_error_is_a_parser_failure_as_resource_graph_answers():
    with pytest.raises(KqlError) as info:
        q("Resources | join (ResourceContainers on id", CONTAINERS)
    err = info.value
    assert (err.code, err.line, err.position, err.token) == ("ParserFailure", 1, 37, "on")
    body = error_body(err, timestamp=datetime(2026, 11, 1, tzinfo=UTC), correlation_id="c")
    assert body["error"]["code"] == "BadRequest"
    assert body["error"]["details"] == [
        {"code": "InvalidQuery", "message": "Query is invalid. Please refer to the documentation for the Azure "
         "Resource Graph service and fix the error before retrying."},
        {"code": "ParserFailure", "message": "ParserFailure", "line": 1, "characterPositionInLine": 37,
         "token": "on"}]


def test_union_outer_and_inner_with_the_source_table():
    rows = q("union withsource=table Resources, ResourceContainers | where name startswith 'rg' or name == 'Platform' "
             "| project table, name, type", CONTAINERS)
    assert rows == [
        {"table": "ResourceContainers", "name": "rg-app", "type": "microsoft.resources/subscriptions/resourcegroups"},
        {"table": "ResourceContainers", "name": "Platform", "type": "microsoft.resources/subscriptions"},
    ]
    rows = q("Resources | where name == 'vm-legacy' | project name, location "
             "| union kind=outer (ResourceContainers | project name, state = tostring(properties.state) | take 1)",
             CONTAINERS)
    assert rows == [{"name": "vm-legacy", "location": "eastus", "state": ""},
                    {"name": "rg-app", "location": "", "state": ""}]
    rows = q("Resources | where name == 'vm-legacy' | project name, location "
             "| union kind=inner (ResourceContainers | project name, state = 'x')", CONTAINERS)
    assert rows == [{"name": "vm-legacy"}, {"name": "rg-app"}, {"name": "Platform"}]


def test_parse_extracts_typed_columns_and_leaves_unmatched_rows_empty():
    tables = {"T": [{"s": "size=5;zone=2"}, {"s": "size=x;zone=3"}, {"s": "nothing"}]}
    assert run("T | parse s with 'size=' size:long ';zone=' zone | project size, zone", tables) == [
        {"size": 5, "zone": "2"}, {"size": None, "zone": ""}, {"size": None, "zone": ""}]
    assert run("T | parse kind=relaxed s with 'size=' size:long ';zone=' zone | project size, zone", tables) == [
        {"size": 5, "zone": "2"}, {"size": None, "zone": "3"}, {"size": None, "zone": ""}]
    rows = q("Resources | where type =~ 'microsoft.compute/virtualmachines' | parse id with * '/resourceGroups/' rg "
             "'/providers/' * | distinct rg | order by rg asc")
    assert rows == [{"rg": "rg-app"}, {"rg": "rg-data"}]
    assert run(r"T | parse kind=regex s with 'size=' n:long ';zone=' z:long | project n, z", tables) == [
        {"n": 5, "z": 2}, {"n": None, "z": None}, {"n": None, "z": None}]


def test_arg_max_and_arg_min_return_the_row_of_each_group():
    rows = q("Resources | where type =~ 'microsoft.compute/virtualmachines' "
             "| summarize arg_max(name, location, zones) by resourceGroup | order by resourceGroup asc")
    assert rows == [{"resourceGroup": "rg-app", "name": "vm-web-02", "location": "westeurope", "zones": []},
                    {"resourceGroup": "rg-data", "name": "vm-db-01", "location": "northeurope", "zones": ["2"]}]
    rows = q("Resources | summarize arg_min(name, *) by type | project type, name, location, managedBy "
             "| order by type asc")
    assert rows == [
        {"type": "microsoft.compute/disks", "name": "vm-web-01-os", "location": "westeurope", "managedBy": WEB1["id"]},
        {"type": VM_TYPE, "name": "vm-batch-01", "location": "northeurope", "managedBy": ""},
    ]
    assert list(q("Resources | summarize arg_max(name, *) by type")[0]) == [
        "type", "name", "id", "tenantId", "kind", "location", "resourceGroup", "subscriptionId", "managedBy", "sku",
        "plan", "properties", "tags", "identity", "zones", "extendedLocation"]
