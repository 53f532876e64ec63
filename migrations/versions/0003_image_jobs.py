"""image jobs: 2K upscales and background cut-outs

Revision ID: 0003
Revises: 0002

"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('image_jobs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('image_id', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=False),
    sa.Column('job_type', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('error_code', sa.String(length=30), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['image_id'], ['images.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('image_id', 'job_type', name='uq_image_jobs_image_type')
    )
    with op.batch_alter_table('image_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_jobs_image_id'), ['image_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_image_jobs_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_image_jobs_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('image_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_jobs_status'))
        batch_op.drop_index(batch_op.f('ix_image_jobs_owner_id'))
        batch_op.drop_index(batch_op.f('ix_image_jobs_image_id'))

    op.drop_table('image_jobs')
