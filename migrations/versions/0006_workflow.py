"""the designer's workflow: staged uploads, tombstones of deleted images, one-time form tokens, job steps

Revision ID: 0006
Revises: 0005

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staged_uploads',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('thumbnail_path', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staged_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staged_uploads_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_staged_uploads_owner_id'), ['owner_id'], unique=False)

    op.create_table('deleted_images',
    sa.Column('image_id', sa.String(length=32), nullable=False),
    sa.Column('generation_id', sa.String(length=32), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['generation_id'], ['generations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('image_id')
    )
    with op.batch_alter_table('deleted_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deleted_images_generation_id'), ['generation_id'], unique=False)

    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submission', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('step', sa.String(length=20), nullable=True))
        batch_op.create_unique_constraint('uq_generations_owner_submission', ['owner_id', 'submission'])

    with op.batch_alter_table('image_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('step', sa.String(length=20), nullable=True))



def downgrade():
    with op.batch_alter_table('image_jobs', schema=None) as batch_op:
        batch_op.drop_column('step')

    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.drop_constraint('uq_generations_owner_submission', type_='unique')
        batch_op.drop_column('step')
        batch_op.drop_column('submission')

    with op.batch_alter_table('deleted_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deleted_images_generation_id'))

    op.drop_table('deleted_images')
    with op.batch_alter_table('staged_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staged_uploads_owner_id'))
        batch_op.drop_index(batch_op.f('ix_staged_uploads_created_at'))

    op.drop_table('staged_uploads')
