"""ARM vocabulary: ids, dotted paths, read-only views, World, ArmError."""

from refit.arm.errors import ArmError, UserError
from refit.arm.ids import ResourceId, id_key, same_id
from refit.arm.paths import deep_merge, get_path, set_path
from refit.arm.world import World

__all__ = ["ArmError", "ResourceId", "UserError", "World", "deep_merge", "get_path", "id_key", "same_id", "set_path"]
