"""list indexes: one index per list order and filter (issue 14), so a page is a walk along an index

Each paged list (services/paging.py) orders by its columns and the id; its index is (filter, order...,
id). The single-column indexes these begin with go: the composite serves their lookups too.

Revision ID: 0009
Revises: 0008

"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('characters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_characters_project_id'))
        batch_op.create_index('ix_characters_project_created', ['project_id', 'created_at', 'id'], unique=False)

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_image_id'))
        batch_op.create_index('ix_comments_image_created', ['image_id', 'created_at', 'id'], unique=False)

    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_generations_created_at'))
        batch_op.drop_index(batch_op.f('ix_generations_owner_id'))
        batch_op.drop_index(batch_op.f('ix_generations_project_id'))
        batch_op.create_index('ix_generations_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_generations_owner_created', ['owner_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_generations_project_created', ['project_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_generations_waiting', ['status', 'priority', 'queued_at'], unique=False)

    with op.batch_alter_table('history_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_history_entries_created_at'))
        batch_op.drop_index(batch_op.f('ix_history_entries_project_id'))
        batch_op.create_index('ix_history_entries_project_created', ['project_id', 'created_at', 'id'], unique=False)

    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_images_generation_id'))
        batch_op.drop_index(batch_op.f('ix_images_review_state'))
        batch_op.create_index('ix_images_review_created', ['review_state', 'created_at', 'id'], unique=False)

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_projects_owner_id'))
        batch_op.create_index('ix_projects_owner_updated', ['owner_id', 'updated_at', 'id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_created', ['created_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_created')

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_owner_updated')
        batch_op.create_index(batch_op.f('ix_projects_owner_id'), ['owner_id'], unique=False)

    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.drop_index('ix_images_review_created')
        batch_op.create_index(batch_op.f('ix_images_review_state'), ['review_state'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_generation_id'), ['generation_id'], unique=False)

    with op.batch_alter_table('history_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_history_entries_project_created')
        batch_op.create_index(batch_op.f('ix_history_entries_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_history_entries_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.drop_index('ix_generations_waiting')
        batch_op.drop_index('ix_generations_project_created')
        batch_op.drop_index('ix_generations_owner_created')
        batch_op.drop_index('ix_generations_created')
        batch_op.create_index(batch_op.f('ix_generations_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_generations_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_generations_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_image_created')
        batch_op.create_index(batch_op.f('ix_comments_image_id'), ['image_id'], unique=False)

    with op.batch_alter_table('characters', schema=None) as batch_op:
        batch_op.drop_index('ix_characters_project_created')
        batch_op.create_index(batch_op.f('ix_characters_project_id'), ['project_id'], unique=False)
