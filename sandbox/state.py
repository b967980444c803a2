"""The sandbox's world: one account, one workspace, two projects, their folders, files and stacks;
more accounts (each a workspace and a project) on demand, each with an API user and token of its
own (a member of that account only), or the seeded API user's.

Everything lives in memory and is only touched from the event loop, so no locks are needed: a
handler mutates state synchronously between two awaits. Lookups raise the documented 404.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import not_found
from sandbox.events import Event, Listener
from sandbox.model import Asset, CustomAction, File, Folder, Project, Stack, User, Webhook
from sandbox.oauth import OAuthBook


@dataclass
class Store:
    account_id: str
    workspace_id: str
    rng: random.Random
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    folders: dict[str, Folder] = field(default_factory=dict)
    files: dict[str, File] = field(default_factory=dict)
    stacks: dict[str, Stack] = field(default_factory=dict)
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    actions: dict[str, CustomAction] = field(default_factory=dict)
    clicks: list[dict[str, Any]] = field(default_factory=list)
    """Every click on a Custom Action, with each screen the user was shown (the control API reads it)."""
    listeners: list[Listener] = field(default_factory=list)
    oauth: OAuthBook = field(default_factory=OAuthBook)
    """User sign-ins: authorization codes, refresh tokens, and which sign-in each access token is of."""
    project_id: str = ""
    other_project_id: str = ""
    api_user_id: str = ""
    uploader_user_id: str = ""
    workspaces: dict[str, str] = field(default_factory=dict)
    """Workspace id -> its account id, the seeded one's included."""
    own_users: dict[str, str] = field(default_factory=dict)
    """Account id -> the API user of an account with its own token; that user belongs to no other
    account, and no other user belongs to it (every other user belongs to every other account)."""

    # --- ids and users --------------------------------------------------------------------
    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_secret(self) -> str:
        return f"{self.rng.getrandbits(256):064x}"

    def add_user(self, name: str, token: str | None = None, user_id: str | None = None) -> User:
        user = User(user_id or self.new_id(), name, f"{name.lower().replace(' ', '.')}@sandbox.invalid")
        self.users[user.id] = user
        if token is not None:
            self.tokens[token] = user.id
        return user

    def user_for_token(self, token: str) -> User | None:
        user_id = self.tokens.get(token)
        return self.users.get(user_id) if user_id else None

    # --- projects and folders -------------------------------------------------------------
    def add_project(self, name: str, creator_id: str) -> Project:
        project_id, root_id = self.new_id(), self.new_id()
        self.folders[root_id] = Folder(root_id, "root", None, project_id, creator_id)
        project = Project(project_id, name, self.workspace_id, root_id)
        self.projects[project_id] = project
        return project

    def add_folder(self, parent: Folder, name: str, creator_id: str) -> Folder:
        folder = Folder(self.new_id(), name, parent.id, parent.project_id, creator_id)
        self.folders[folder.id] = folder
        return folder

    def remove_folder(self, folder: Folder) -> None:
        """Forget ``folder`` and everything under it: sub-folders, stacks, files (stacked or not)."""
        for child in self.children(folder.id):
            if isinstance(child, Folder):
                self.remove_folder(child)
            elif isinstance(child, Stack):
                for file_id in [f.id for f in self.files.values() if f.parent_id == child.id]:
                    del self.files[file_id]
                del self.stacks[child.id]
            else:
                del self.files[child.id]
        del self.folders[folder.id]

    def add_account(self, own_token: str | None = None) -> Project:
        """Another account: its own workspace and project (and so its own webhooks and, per account,
        rate-limit buckets). With ``own_token``, an API user of its own behind that token, a member
        of this account only; else the seeded API user's. Returns the project."""
        account_id, workspace_id = self.new_id(), self.new_id()
        self.workspaces[workspace_id] = account_id
        creator = self.api_user_id
        if own_token is not None:
            creator = self.add_user(f"Service Account User of {account_id[:8]}", own_token).id
            self.own_users[account_id] = creator
        project_id, root_id = self.new_id(), self.new_id()
        self.folders[root_id] = Folder(root_id, "root", None, project_id, creator)
        project = Project(project_id, "Project", workspace_id, root_id)
        self.projects[project_id] = project
        return project

    def account_of(self, project_id: str) -> str:
        return self.workspaces.get(self.projects[project_id].workspace_id, self.account_id)

    def has_account(self, account_id: str) -> bool:
        return account_id == self.account_id or account_id in self.workspaces.values()

    def is_member(self, user_id: str, account_id: str) -> bool:
        """Whether ``user_id`` belongs to ``account_id`` (an account with its own API user has only
        that user; that user has only that account)."""
        own = self.own_users.get(account_id)
        if own is not None:
            return user_id == own
        return user_id not in self.own_users.values()

    def accounts_of(self, user_id: str) -> list[str]:
        """The accounts ``user_id`` belongs to, the seeded one first."""
        others = sorted(set(self.workspaces.values()) - {self.account_id})
        return [account for account in [self.account_id, *others] if self.is_member(user_id, account)]

    # --- lookups --------------------------------------------------------------------------
    def folder(self, folder_id: str) -> Folder:
        found = self.folders.get(folder_id)
        if found is None:
            raise not_found("Folder", folder_id)
        return found

    def file(self, file_id: str) -> File:
        found = self.files.get(file_id)
        if found is None:
            raise not_found("File", file_id)
        return found

    def stack(self, stack_id: str) -> Stack:
        found = self.stacks.get(stack_id)
        if found is None:
            raise not_found("Version stack", stack_id)
        return found

    def webhook(self, webhook_id: str) -> Webhook:
        found = self.webhooks.get(webhook_id)
        if found is None:
            raise not_found("Webhook", webhook_id)
        return found

    def action(self, action_id: str) -> CustomAction:
        found = self.actions.get(action_id)
        if found is None:
            raise not_found("Action", action_id)
        return found

    def folder_of(self, asset: Asset) -> Folder:
        """The folder an asset sits in, looking through a stack for a stacked file."""
        parent_id = asset.parent_id or ""
        if parent_id in self.stacks:
            parent_id = self.stacks[parent_id].parent_id or ""
        return self.folder(parent_id)

    def children(self, folder_id: str) -> list[Asset]:
        """Direct children of a folder: folders, stacks and unstacked files (not stack members)."""
        found: list[Asset] = [f for f in self.folders.values() if f.parent_id == folder_id]
        found += [s for s in self.stacks.values() if s.parent_id == folder_id]
        found += [f for f in self.files.values() if f.parent_id == folder_id]
        return found

    # --- events ---------------------------------------------------------------------------
    def emit(self, event_type: str, asset: Asset, user_id: str, resource_type: str = "file") -> None:
        event = Event(
            type=event_type,
            resource_id=asset.id,
            resource_type=resource_type,
            account_id=self.account_of(asset.project_id),
            workspace_id=self.projects[asset.project_id].workspace_id,
            project_id=asset.project_id,
            user_id=user_id,
        )
        for listener in list(self.listeners):
            listener(event)


def seed_store(seed: int | None, token: str, extra_tokens: list[str]) -> Store:
    """The start-up world: an API user behind ``token``, an uploader (a person), two projects."""
    rng = random.Random(seed)

    def fresh() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    store = Store(account_id=fresh(), workspace_id=fresh(), rng=rng)
    store.workspaces[store.workspace_id] = store.account_id
    api_user = store.add_user("Service Account User", token)
    store.api_user_id = api_user.id
    store.uploader_user_id = store.add_user("Editor").id
    for number, extra in enumerate(extra_tokens, start=2):
        store.add_user(f"Service Account User {number}", extra)
    store.project_id = store.add_project("Sandbox Project", api_user.id).id
    store.other_project_id = store.add_project("Other Project", api_user.id).id
    return store
