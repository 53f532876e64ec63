"""batches: one request for many generations, and each generation's batch and cell

Revision ID: 0012
Revises: 0011

"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('batches',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('project_id', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('source_count', sa.Integer(), nullable=False),
    sa.Column('character_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batches_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_batches_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_batches_project_id'), ['project_id'], unique=False)

    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('source_index', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('character_index', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_generations_batch_id'), ['batch_id'], unique=False)
        batch_op.create_foreign_key('fk_generations_batch_id', 'batches', ['batch_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.drop_constraint('fk_generations_batch_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_generations_batch_id'))
        batch_op.drop_column('character_index')
        batch_op.drop_column('source_index')
        batch_op.drop_column('batch_id')

    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batches_project_id'))
        batch_op.drop_index(batch_op.f('ix_batches_owner_id'))
        batch_op.drop_index(batch_op.f('ix_batches_created_at'))

    op.drop_table('batches')
