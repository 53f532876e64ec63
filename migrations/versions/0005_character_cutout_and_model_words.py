"""characters: the cut-out kept beside the upload; generations: the model's own words on a failure

Revision ID: 0005
Revises: 0004

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('characters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cutout_path', sa.String(length=255), nullable=True))
        # Characters stored before keep using their one picture.
        batch_op.add_column(sa.Column('use_cutout', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_detail', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.drop_column('error_detail')
    with op.batch_alter_table('characters', schema=None) as batch_op:
        batch_op.drop_column('use_cutout')
        batch_op.drop_column('cutout_path')
